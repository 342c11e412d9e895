// The error envelope every answer of the service carries on failure:
// {requestID, correlationID, timestamp, data: null, error: {code, message, retryable, details}}
// (docs/errors.md). The codes this service writes come from the generated document; the lending
// platform's own 4xx codes pass through the proxy unchanged, so any other string is accepted too.
import type { components } from "./schema";

/** The codes the service itself writes, as listed in the OpenAPI document. */
export type ServiceErrorCode = components["schemas"]["ErrorEnvelope"]["error"]["code"];

/** A service code, or a code of the lending platform passed through by the proxy. */
export type ErrorCode = ServiceErrorCode | (string & {});

/** The `error` member of the envelope. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** `true` when repeating the same request (same Idempotency-Key) may succeed. */
  retryable: boolean;
  details: Record<string, unknown> | null;
}

/** Statuses whose answers are always retryable (docs/errors.md). */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

/** A failed call: the envelope's error, the HTTP status and the ids to quote in a support request. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | null;
  readonly requestID: string | null;
  readonly correlationID: string | null;
  /** Seconds from the Retry-After header, when the answer carried one. */
  readonly retryAfterSeconds: number | null;

  constructor(init: {
    status: number;
    error: ErrorBody;
    requestID: string | null;
    correlationID: string | null;
    retryAfterSeconds: number | null;
  }) {
    super(init.error.message);
    this.status = init.status;
    this.code = init.error.code;
    this.retryable = init.error.retryable;
    this.details = init.error.details;
    this.requestID = init.requestID;
    this.correlationID = init.correlationID;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** True when the code is `code` (decide on the code first, the status second). */
  is(code: ServiceErrorCode): boolean {
    return this.code === code;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/** Retry-After in seconds (an integer, as this service sends it), or null. */
export function retryAfterSeconds(headers: Headers): number | null {
  const raw = headers.get("Retry-After");
  if (raw === null || !/^\d+$/.test(raw.trim())) return null;
  return Number(raw.trim());
}

/**
 * Turns a failed response into an ApiError. `body` is the parsed JSON body, or its text when it was
 * not JSON (a gateway in front of the service): then the status decides, with a generic message.
 */
export function toApiError(response: Response, body: unknown): ApiError {
  const status = response.status;
  const envelope = isRecord(body) ? body : null;
  const err = envelope && isRecord(envelope["error"]) ? envelope["error"] : null;
  const code = err ? stringOrNull(err["code"]) : null;
  const error: ErrorBody =
    err && code
      ? {
          code,
          message: stringOrNull(err["message"]) ?? code,
          retryable: typeof err["retryable"] === "boolean" ? err["retryable"] : RETRYABLE_STATUSES.has(status),
          details: isRecord(err["details"]) ? err["details"] : null,
        }
      : {
          code: `HTTP_${status}`,
          message: `The service answered ${status} without an error envelope.`,
          retryable: RETRYABLE_STATUSES.has(status),
          details: null,
        };
  return new ApiError({
    status,
    error,
    requestID: envelope ? stringOrNull(envelope["requestID"]) : null,
    correlationID: (envelope ? stringOrNull(envelope["correlationID"]) : null) ?? response.headers.get("X-Correlation-ID"),
    retryAfterSeconds: retryAfterSeconds(response.headers),
  });
}
