// A small typed client over fetch for the aarthik-bff service. The session, web-session and ops
// operations are typed by the generated document (src/schema.d.ts, `npm run generate`); `api` is the
// openapi-fetch client for any operation of the document; `headless` calls the journey proxy
// (/v1/headless/*), whose bodies are the lending platform's.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiError, toApiError } from "./errors";

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

/** POST /v1/session body: optional journeyType and profile prefill. */
export type MintSessionRequest = NonNullable<paths["/v1/session"]["post"]["requestBody"]>["content"]["application/json"];
/** POST /v1/session: the borrower session (never the refresh token). */
export type Session = Json<paths["/v1/session"]["post"]["responses"][200]>["data"];
/** POST /v1/session/refresh: a fresh session token. */
export type RefreshedSession = Json<paths["/v1/session/refresh"]["post"]["responses"][200]>["data"];
/** GET /v1/session: the session facts, without any token. */
export type SessionFacts = Json<paths["/v1/session"]["get"]["responses"][200]>["data"];
/** POST /v1/web/session: the cookie was set; facts about it. */
export type WebSession = Json<paths["/v1/web/session"]["post"]["responses"][200]>["data"];
export type ActiveJourney = components["schemas"]["ActiveJourney"];

/** The success envelope every JSON answer carries. */
export interface Envelope<T> {
  requestID: string;
  correlationID: string;
  timestamp: string;
  data: T;
  error: null;
}

/** How calls prove who the user is. */
export type Auth =
  /** Mobile and server-side callers: the partner JWT, fetched from the partner's own backend. */
  | { mode: "bearer"; getToken: () => string | Promise<string> }
  /** Browsers: the HttpOnly session cookie set by `web.signIn`, plus `X-CSRF: 1` on every call. */
  | { mode: "cookie" };

export interface BffClientOptions {
  /** Where the service is, e.g. "https://bff.partner.example" (no trailing /v1). */
  baseUrl: string;
  auth: Auth;
  /** A fetch to use instead of globalThis.fetch (tests, React Native wrappers). */
  fetch?: typeof fetch;
  /** Headers sent on every call, e.g. an X-Correlation-ID. */
  headers?: Record<string, string>;
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface ProxyCall {
  /** Query parameters appended to the path. */
  query?: Record<string, string | number | boolean>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}
export interface MutatingProxyCall extends ProxyCall {
  /** Required on POST, PUT, PATCH and DELETE: one per logical operation, the same on every retry. */
  idempotencyKey: string;
}

/** A proxied answer: the platform's `data`, and what the service added around it. */
export interface ProxyResult<T> {
  data: T;
  status: number;
  /** `Idempotent-Replayed: true`: the stored answer of an earlier call with the same key. */
  replayed: boolean;
  correlationID: string | null;
  response: Response;
}

async function authHeaders(auth: Auth, into: Headers): Promise<void> {
  if (auth.mode === "bearer") {
    if (!into.has("Authorization")) into.set("Authorization", `Bearer ${await auth.getToken()}`);
  } else {
    into.set("X-CSRF", "1");
  }
}

/** The envelope's data of an openapi-fetch result, or an ApiError. */
async function unwrap<D extends { data: unknown }>(
  call: Promise<{ data?: D; error?: unknown; response: Response }>,
): Promise<D["data"]> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) throw toApiError(response, error);
  return data.data;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function createBffClient(options: BffClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const credentials: RequestCredentials = options.auth.mode === "cookie" ? "include" : "same-origin";

  const api: Client<paths> = createClient<paths>({
    baseUrl,
    credentials,
    fetch: (request: Request) => doFetch(request),
    ...(options.headers ? { headers: options.headers } : {}),
  });
  const auth: Middleware = {
    async onRequest({ request }) {
      await authHeaders(options.auth, request.headers);
      return request;
    },
  };
  api.use(auth);

  async function proxy<T>(method: Method, path: string, body: unknown, call: ProxyCall & { idempotencyKey?: string }): Promise<ProxyResult<T>> {
    // A string, not URL: React Native's URL has no working searchParams.
    const query = Object.entries(call.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join("&");
    const url = `${baseUrl}/v1/headless/${path.replace(/^\/+/, "")}${query ? `?${query}` : ""}`;
    const headers = new Headers({ ...options.headers, ...call.headers, Accept: "application/json" });
    await authHeaders(options.auth, headers);
    if (call.idempotencyKey !== undefined) headers.set("Idempotency-Key", call.idempotencyKey);
    if (body !== undefined) headers.set("Content-Type", "application/json");
    const response = await doFetch(url, {
      method,
      headers,
      credentials,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    });
    const parsed = await readBody(response);
    if (!response.ok) throw toApiError(response, parsed);
    const envelope = parsed as Envelope<T> | null;
    return {
      data: (envelope?.data ?? null) as T,
      status: response.status,
      replayed: response.headers.get("Idempotent-Replayed") === "true",
      correlationID: envelope?.correlationID ?? response.headers.get("X-Correlation-ID"),
      response,
    };
  }

  return {
    /** The typed openapi-fetch client: every operation of the document, auth headers added. */
    api,

    /** Borrower sessions (bearer mode: a partner JWT). See docs/sessions.md. */
    session: {
      /** Mint or resume the user's borrower session. */
      mint: (body?: MintSessionRequest): Promise<Session> =>
        unwrap(api.POST("/v1/session", body === undefined ? {} : { body })),
      /** A fresh session token, single-flight across the service's instances. */
      refresh: (): Promise<RefreshedSession> => unwrap(api.POST("/v1/session/refresh")),
      /** The facts, without any token; ApiError 401 when there is no session. */
      get: (): Promise<SessionFacts> => unwrap(api.GET("/v1/session")),
      /** Forget the stored tokens (logout). */
      end: () => unwrap(api.DELETE("/v1/session")),
    },

    /** Web apps: exchange a partner JWT for the HttpOnly cookie once, then call with the cookie. */
    web: {
      signIn: (partnerJwt: string): Promise<WebSession> =>
        unwrap(api.POST("/v1/web/session", { headers: { Authorization: `Bearer ${partnerJwt}` } })),
      signOut: () => unwrap(api.DELETE("/v1/web/session")),
    },

    /** The journey proxy: `path` is what follows /v1/headless/, e.g. "journeys/ID/state". */
    headless: {
      get: <T = unknown>(path: string, call: ProxyCall = {}) => proxy<T>("GET", path, undefined, call),
      post: <T = unknown>(path: string, body: unknown, call: MutatingProxyCall) => proxy<T>("POST", path, body, call),
      put: <T = unknown>(path: string, body: unknown, call: MutatingProxyCall) => proxy<T>("PUT", path, body, call),
      patch: <T = unknown>(path: string, body: unknown, call: MutatingProxyCall) => proxy<T>("PATCH", path, body, call),
      delete: <T = unknown>(path: string, call: MutatingProxyCall) => proxy<T>("DELETE", path, undefined, call),
    },
  };
}

export type BffClient = ReturnType<typeof createBffClient>;
export { ApiError };
