#!/usr/bin/env bash
# A whole borrower journey through the BFF, as a partner app would drive it.
#
#   terminal 1:  cargo run                 # the demo: BFF on :8080, embedded sandbox, memory store
#   terminal 2:  scripts/demo.sh           # this walk
#
# Environment: BFF (default http://127.0.0.1:8080), DEMO_USER (default demo-user-1; the walk ends
# with a foreclosure, so the journey is CLOSED and a re-run starts a new one), OPS_TOKEN (default
# the dev token). Needs curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

BFF=${BFF:-http://127.0.0.1:8080}
DEMO_USER=${DEMO_USER:-demo-user-1}
OPS_TOKEN=${OPS_TOKEN:-dev-ops-token}

for tool in curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "demo.sh needs $tool: sudo apt-get install -y $tool   (macOS: brew install $tool)" >&2
    exit 1
  fi
done
if ! curl -fsS "$BFF/healthz" >/dev/null 2>&1; then
  echo "No BFF answers at $BFF. Start the demo first: cargo run" >&2
  exit 1
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
new_key() { cat /proc/sys/kernel/random/uuid 2>/dev/null || echo "demo-$(date +%s%N)-$RANDOM"; }

# A partner JWT for DEMO_USER, signed with the development HS256 secret the demo uses.
if [ -x target/release/aarthik-bff ]; then BIN=(target/release/aarthik-bff)
elif [ -x target/debug/aarthik-bff ]; then BIN=(target/debug/aarthik-bff)
else BIN=(cargo run -q --); fi
step "partner JWT for $DEMO_USER: ${BIN[*]} token --sub $DEMO_USER"
JWT=$("${BIN[@]}" token --sub "$DEMO_USER")
echo "${JWT:0:24}…"

# call METHOD PATH [JSON]: a proxied call with the partner JWT (and a fresh Idempotency-Key when
# it changes state). Prints nothing; the body goes to stdout for jq.
call() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -X "$method" "$BFF$path" -H "Authorization: Bearer $JWT" -H "X-Correlation-ID: demo-$DEMO_USER")
  if [ "$method" != GET ]; then args+=(-H "Idempotency-Key: $(new_key)" -H 'Content-Type: application/json' -d "${body:-{\}}"); fi
  curl "${args[@]}"
}
state() { call GET "/v1/headless/journeys/$JID/state"; }
await_status() {
  local want=$1 i
  for i in $(seq 1 60); do
    s=$(state | jq -r .data.status)
    if [ "$s" = "$want" ]; then echo "status: $s"; return 0; fi
    sleep 1
  done
  echo "gave up waiting for $want (last: $s)" >&2; exit 1
}

step "POST /v1/session — the borrower session (the app could use sessionToken directly; the proxy does not need it)"
curl -sS -X POST "$BFF/v1/session" -H "Authorization: Bearer $JWT" \
  | jq '.data | {borrowerID, borrowerExternalID, sessionExpiresAt, activeJourney, sessionToken: (.sessionToken[0:6] + "…")}'

step "POST /v1/headless/journeys — create or resume a journey"
JOURNEY=$(call POST /v1/headless/journeys '{"type":"PERSONAL_LOAN","metadata":{"source":"demo.sh"}}')
echo "$JOURNEY" | jq '.data | {journeyID, status, nextAction}'
JID=$(echo "$JOURNEY" | jq -r .data.journeyID)
if [ "$(echo "$JOURNEY" | jq -r .data.status)" != STARTED ]; then
  echo "$DEMO_USER already has a journey in progress (an interrupted run?); walk a new user:" >&2
  echo "  DEMO_USER=demo-user-$RANDOM scripts/demo.sh" >&2
  exit 1
fi

step "PUT /v1/headless/profile"
call PUT /v1/headless/profile '{
  "profile": {"contactNumber": "9123456780", "pan": "PQRSX6789K", "panName": "Asha Verma", "personalemail": "asha@example.org"},
  "workProfile": {"employmentType": "salaried", "income": 50000, "incomeType": "monthly"},
  "address": {"city": "Pune", "pincode": "411001"},
  "journey": {"bureauConsent": true}}' | jq '.data | {complete, missingFields}'

step "POST /v1/headless/profile/submit — PROFILE_SUBMITTED; lenders are asked a moment later"
call POST /v1/headless/profile/submit '{}' | jq -c '.data | {status, nextAction, pendingOperations}'

step "poll GET /v1/headless/journeys/$JID/state until OFFERS_AVAILABLE"
await_status OFFERS_AVAILABLE

step "GET /v1/headless/journeys/$JID/offers"
OFFERS=$(call GET "/v1/headless/journeys/$JID/offers")
echo "$OFFERS" | jq -c '.data.offers[] | {lenderName, status, principal, annualInterestRatePercent, tenureMonths, emi}'
OID=$(echo "$OFFERS" | jq -r '.data.offers[] | select(.lenderID=="aarohan-finance") | .offerID')

step "POST /v1/headless/offers/$OID/proceed — twice with one Idempotency-Key: the second is a replay"
KEY=$(new_key)
for attempt in 1 2; do
  RES=$(curl -sS -i -X POST "$BFF/v1/headless/offers/$OID/proceed" -H "Authorization: Bearer $JWT" \
    -H "Idempotency-Key: $KEY" -H 'Content-Type: application/json' -d '{}')
  echo "attempt $attempt:"
  echo "$RES" | tr -d '\r' | grep -i -E '^(HTTP/|idempotent-replayed|idempotency-retention)' | sed 's/^/  /'
  echo "$RES" | tr -d '\r' | sed '1,/^$/d' | jq -c '.data | {status, nextAction}' | sed 's/^/  /'
done

step "GET /v1/headless/offers/$OID/steps"
STEPS=$(call GET "/v1/headless/offers/$OID/steps")
echo "$STEPS" | jq -c '.data.steps[] | {type, status, actionRequired}'
step_id() { echo "$STEPS" | jq -r ".data.steps[] | select(.type==\"$1\") | .stepID"; }
open_page() { curl -sS "$1" | grep -o '<p id="message">[^<]*' | sed 's/<p id="message">/page says: /'; }

step "KFS review (form): accept the key facts statement"
call POST "/v1/headless/offers/$OID/steps/$(step_id KFS_REVIEW)/submit" '{"fields":{"accepted":true}}' | jq -c '.data | {type, status}'
state | jq -c '.data | {status, nextAction}'

step "Account Aggregator consent (redirect): the AA session, its page (IN_PROGRESS), then complete (APPROVED)"
AA=$(call POST "/v1/headless/journeys/$JID/aa/sessions" '{}')
echo "$AA" | jq -c '.data | {aaSessionID, state, redirectURL}'
AAID=$(echo "$AA" | jq -r .data.aaSessionID)
open_page "$(echo "$AA" | jq -r .data.redirectURL)"
call GET "/v1/headless/aa/sessions/$AAID" | jq -c '.data | {state}'
call POST "/v1/headless/aa/sessions/$AAID/complete" '{}' | jq -c '.data | {state}'

# A redirect step: open its page (the borrower at the provider), then tell the API they are back.
redirect_step() {
  local sid
  sid=$(step_id "$1")
  local url
  url=$(call GET "/v1/headless/offers/$OID/steps/$sid" | jq -r .data.resource.url)
  echo "$url"
  open_page "$url"
  call GET "/v1/headless/offers/$OID/steps/$sid" | jq -c '.data | {type, status, actionRequired}'
  call POST "/v1/headless/offers/$OID/steps/$sid/complete" '{}' | jq -c '.data | {type, status}'
}

step "KYC (redirect for this lender)"
redirect_step KYC

step "bank mandate (form; prefilled from the profile's bankingInformation when it has one)"
call POST "/v1/headless/offers/$OID/steps/$(step_id BANK_MANDATE)/submit" \
  '{"fields":{"accountNumber":"123456789012","ifsc":"HDFC0001234","accountHolderName":"Asha Verma"}}' | jq -c '.data | {type, status, result}'

for T in E_MANDATE LOAN_AGREEMENT; do
  step "$T (redirect)"
  redirect_step "$T"
done
state | jq -c '.data | {status, nextAction, pendingOperations}'

step "wait for disbursal"
await_status DISBURSED

step "GET /v1/headless/journeys/$JID/loan"
call GET "/v1/headless/journeys/$JID/loan" | jq '.data | {status, principal, outstandingPrincipal, emi, nextDueDate, supportedActions}'

step "post-disbursal: foreclosure (the loan closes; a re-run of this script starts a new journey)"
call POST "/v1/headless/journeys/$JID/post-disbursal/foreclosure" '{}' \
  | jq '.data | {status, result, loan: {status: .loan.status, outstandingPrincipal: .loan.outstandingPrincipal}}'

step "GET /v1/session — activeJourney is the journey as it is now (no upstream session call)"
curl -sS "$BFF/v1/session" -H "Authorization: Bearer $JWT" | jq -c '.data.activeJourney'

step "ops view: GET /v1/ops/journeys/$JID (ops token)"
curl -sS "$BFF/v1/ops/journeys/$JID" -H "Authorization: Bearer $OPS_TOKEN" \
  | jq '.data // . | {journeyID, userID, status, nextAction, sequence, events: ((.events // []) | length), error}'

step "ops feed: GET /v1/ops/events (last 5)"
curl -sS "$BFF/v1/ops/events?limit=1000" -H "Authorization: Bearer $OPS_TOKEN" \
  | jq -c '(.data.events // [])[-5:][] | {cursor, journeyID, userID, sequence, status, nextAction}'

step "done: journey $JID walked through the BFF"
