// A web app: the partner JWT is exchanged once for the HttpOnly session cookie; every call then goes
// with the cookie (credentials: "include") and X-CSRF: 1, which the client adds. The browser never
// holds an upstream token. Type-checked by `npm run typecheck` against the generated document.
import { ApiError, createBffClient, newIdempotencyKey, type ServiceErrorCode } from "../src/index";

const bff = createBffClient({ baseUrl: "https://bff.partner.example", auth: { mode: "cookie" } });

export async function signIn(partnerJwt: string): Promise<void> {
  const web = await bff.web.signIn(partnerJwt); // POST /v1/web/session sets __Host-bff_session
  console.log("web session", web);
}

interface Journey {
  journeyID: string;
  status: string;
  nextAction: string | null;
}

export async function startJourney(): Promise<Journey | null> {
  // Keep the key with the pending operation (e.g. in component state) so a retry reuses it.
  const idempotencyKey = newIdempotencyKey();
  try {
    const created = await bff.headless.post<Journey>("journeys", { type: "PERSONAL_LOAN" }, { idempotencyKey });
    return created.data;
  } catch (e) {
    if (e instanceof ApiError) {
      const retryLater: ServiceErrorCode[] = ["IDEMPOTENCY_KEY_IN_USE", "STORE_UNAVAILABLE", "UPSTREAM_TIMEOUT"];
      if (e.retryable) {
        console.info(`try again in ${e.retryAfterSeconds ?? 1} s with the same key`, retryLater.includes(e.code as ServiceErrorCode));
      } else if (e.is("UNAUTHENTICATED")) {
        console.info("the cookie expired: sign in again");
      }
      return null;
    }
    throw e;
  }
}

export async function journeys(): Promise<Journey[]> {
  const list = await bff.headless.get<{ journeys: Journey[] }>("journeys");
  return list.data.journeys;
}

// The typed openapi-fetch client reaches every operation of the document with its own types.
export async function sessionFacts(): Promise<void> {
  const { data, error, response } = await bff.api.GET("/v1/session");
  if (error) {
    console.warn(response.status, error.error.code);
    return;
  }
  console.log(data.data);
}

export async function signOut(): Promise<void> {
  await bff.web.signOut();
}
