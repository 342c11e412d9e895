// Runs the client against a running service (scripts/typescript-client.sh starts one with the
// embedded sandbox): mobile bearer calls, a web cookie session, idempotent replay and the error
// envelope. Exits non-zero on the first mismatch.
//   node .build/test/smoke.js BASE_URL PARTNER_JWT OTHER_USER_JWT
import { ApiError, createBffClient, withIdempotency } from "../src/index";

declare const process: { argv: string[]; exitCode?: number };

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`smoke: ${what}`);
  console.log(`   ok: ${what}`);
}

async function refusal(call: () => Promise<unknown>): Promise<ApiError> {
  try {
    await call();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("smoke: the call succeeded but was expected to fail");
}

/** fetch with a one-origin cookie jar, standing in for the browser. */
function cookieFetch(): typeof fetch {
  const jar = new Map<string, string>();
  return async (input, init) => {
    const request = new Request(input, init);
    if (jar.size > 0) request.headers.set("Cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(request);
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return response;
  };
}

interface Journey {
  journeyID: string;
  status: string;
  nextAction: string | null;
}

async function main(): Promise<void> {
  const [baseUrl, jwt, otherJwt] = process.argv.slice(2);
  if (!baseUrl || !jwt || !otherJwt) throw new Error("usage: smoke.js BASE_URL PARTNER_JWT OTHER_USER_JWT");

  const mobile = createBffClient({ baseUrl, auth: { mode: "bearer", getToken: () => jwt } });
  const minted = await mobile.session.mint();
  check(typeof minted.sessionToken === "string" && minted.sessionToken.length > 0, "mint returns a session token");
  const refreshed = await mobile.session.refresh();
  check(typeof refreshed.sessionToken === "string" && refreshed.sessionToken.length > 0, "refresh returns a session token");
  const facts = await mobile.session.get();
  check(facts["borrowerExternalID"] === minted.borrowerExternalID && !("sessionToken" in facts), "GET /v1/session: the facts, no token");

  let key = "";
  const created = await withIdempotency((k) => {
    key = k;
    return mobile.headless.post<Journey>("journeys", { type: "PERSONAL_LOAN" }, { idempotencyKey: k });
  });
  check(typeof created.data.journeyID === "string" && !created.replayed, `journey created (${created.status})`);
  const again = await mobile.headless.post<Journey>("journeys", { type: "PERSONAL_LOAN" }, { idempotencyKey: key });
  check(again.replayed && again.data.journeyID === created.data.journeyID, "same Idempotency-Key: the stored answer, Idempotent-Replayed");
  const state = await mobile.headless.get<Journey>(`journeys/${created.data.journeyID}/state`);
  check(state.data.status === created.data.status, "proxied GET of the journey's state");

  const reused = await refusal(() => mobile.headless.post("journeys", { type: "OTHER" }, { idempotencyKey: key }));
  check(reused.status === 422 && reused.code === "IDEMPOTENCY_KEY_REUSED" && !reused.retryable, "key reused with another body: 422 IDEMPOTENCY_KEY_REUSED");
  const other = createBffClient({ baseUrl, auth: { mode: "bearer", getToken: () => otherJwt } });
  const foreign = await refusal(() => other.headless.get(`journeys/${created.data.journeyID}/state`));
  check(foreign.status === 404 && foreign.code === "JOURNEY_NOT_FOUND" && foreign.requestID !== null, "another user's journey: 404 JOURNEY_NOT_FOUND with a requestID");
  const forged = createBffClient({ baseUrl, auth: { mode: "bearer", getToken: () => "not-a-jwt" } });
  const unauth = await refusal(() => forged.session.mint());
  check(unauth.status === 401 && unauth.code === "UNAUTHENTICATED" && unauth.message.length > 0, "a bad JWT: 401 UNAUTHENTICATED");

  const web = createBffClient({ baseUrl, auth: { mode: "cookie" }, fetch: cookieFetch() });
  const before = await refusal(() => web.headless.get("journeys"));
  check(before.code === "UNAUTHENTICATED", "web: no cookie yet, 401");
  await web.web.signIn(jwt);
  const list = await web.headless.get<{ journeys: Journey[] }>("journeys");
  check(list.data.journeys.some((j) => j.journeyID === created.data.journeyID), "web: the cookie + X-CSRF call lists the user's journey");
  await web.web.signOut();
  const after = await refusal(() => web.headless.get("journeys"));
  check(after.code === "UNAUTHENTICATED", "web: signed out, 401");

  const ended = await mobile.session.end();
  check(ended["deleted"] === true, "DELETE /v1/session");
}

main().catch((e: unknown) => {
  if (e instanceof ApiError) console.error(`smoke: unexpected ${e.status} ${e.code}: ${e.message} (request ${e.requestID ?? "-"})`);
  else console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
