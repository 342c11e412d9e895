export {
  createBffClient,
  type Auth,
  type BffClient,
  type BffClientOptions,
  type Envelope,
  type Method,
  type MintSessionRequest,
  type MutatingProxyCall,
  type ProxyCall,
  type ProxyResult,
  type RefreshedSession,
  type Session,
  type SessionFacts,
  type WebSession,
  type ActiveJourney,
} from "./client";
export { ApiError, toApiError, retryAfterSeconds, type ErrorBody, type ErrorCode, type ServiceErrorCode } from "./errors";
export { newIdempotencyKey, withIdempotency, type RetryOptions } from "./idempotency";
export type { components, paths } from "./schema";
