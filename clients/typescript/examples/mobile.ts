// A mobile app (React Native or any fetch runtime): the partner JWT comes from the partner's own
// backend; the app mints or resumes the borrower session, refreshes it, and calls the journey proxy.
// Type-checked by `npm run typecheck` against the generated document.
import { ApiError, createBffClient, withIdempotency, type Session } from "../src/index";

// The app's own sign-in gives it a partner JWT; keep it in secure storage (Keychain / Keystore).
declare function partnerJwtFromSecureStorage(): Promise<string>;

const bff = createBffClient({
  baseUrl: "https://bff.partner.example",
  auth: { mode: "bearer", getToken: partnerJwtFromSecureStorage },
});

export async function startSession(): Promise<Session> {
  // POST /v1/session: mint or resume; ask for a journey in the same call.
  const session = await bff.session.mint({ journeyType: "PERSONAL_LOAN" });
  const journey = session.activeJourney;
  if (journey) console.log(`journey ${journey.journeyID}: ${journey.status ?? "?"} → ${journey.nextAction ?? "?"}`);
  console.log(`borrower ${session.borrowerExternalID ?? ""}, token until ${session.sessionExpiresAt ?? ""}`);
  return session;
}

export async function refreshSession(): Promise<string | undefined> {
  // POST /v1/session/refresh: one upstream refresh however many devices or tabs ask at once.
  const refreshed = await bff.session.refresh();
  return refreshed.sessionToken;
}

interface JourneyState {
  journeyID: string;
  status: string;
  nextAction: string | null;
}

export async function submitProfile(journeyID: string, profile: Record<string, unknown>): Promise<JourneyState | null> {
  try {
    // One Idempotency-Key for this submission, reused on every retry of it.
    const result = await withIdempotency((idempotencyKey) =>
      bff.headless.put<unknown>("profile", profile, { idempotencyKey }),
    );
    if (result.replayed) console.log("answered from the first attempt (Idempotent-Replayed)");
    const state = await bff.headless.get<JourneyState>(`journeys/${encodeURIComponent(journeyID)}/state`);
    return state.data;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e; // a network failure after the retries
    switch (e.code) {
      case "UNAUTHENTICATED":
        // Get a fresh partner JWT from the partner backend, then repeat once; do not loop.
        return null;
      case "JOURNEY_NOT_FOUND":
        // Reload the user's journeys (GET /v1/headless/journeys).
        return null;
      case "VALIDATION_FAILED": // the platform's own code, passed through the proxy
        console.warn(`fix the field ${String(e.details?.["field"] ?? "?")}: ${e.message}`);
        return null;
      default:
        // retryable errors already had their retries; log the ids, never tokens.
        console.error(`${e.status} ${e.code} retryable=${e.retryable} request=${e.requestID ?? "-"} correlation=${e.correlationID ?? "-"}`);
        throw e;
    }
  }
}

export async function signOut(): Promise<void> {
  await bff.session.end();
}
