// Idempotency-Key: one UUID per logical operation, reused on every retry of that operation, so the
// service and the platform run it at most once (docs/proxy.md). Never retry a mutating call with a
// new key unless the user asked again.
import { ApiError } from "./errors";

/**
 * A fresh UUIDv4 for an Idempotency-Key. Uses crypto.randomUUID (browsers, Node 19+), else
 * crypto.getRandomValues (React Native with a polyfill such as react-native-get-random-values).
 */
export function newIdempotencyKey(): string {
  const c = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  if (!c?.getRandomValues) {
    throw new Error("No secure random source: install a crypto.getRandomValues polyfill to create Idempotency-Keys.");
  }
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface RetryOptions {
  /** Total attempts, the first included (default 4). */
  attempts?: number;
  /** First back-off in milliseconds, doubled each attempt, with full jitter (default 250). */
  baseDelayMs?: number;
  /** Longest single wait in milliseconds, Retry-After included (default 10000). */
  maxDelayMs?: number;
  /** Reuse a key already sent (e.g. one kept across an app restart). */
  idempotencyKey?: string;
  /** Stops waiting and retrying. */
  signal?: AbortSignal;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });
}

/**
 * Runs `op` with one Idempotency-Key and retries it with the same key while the failure is
 * retryable: an ApiError with `retryable: true` (waiting at least Retry-After), or a network error
 * (the answer may have been lost: the same key makes the repeat safe).
 */
export async function withIdempotency<T>(op: (idempotencyKey: string) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const key = options.idempotencyKey ?? newIdempotencyKey();
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(key);
    } catch (e) {
      const retryable = e instanceof ApiError ? e.retryable : e instanceof TypeError; // fetch: network failure
      if (!retryable || attempt >= attempts || options.signal?.aborted) throw e;
      const backoff = Math.random() * base * 2 ** (attempt - 1);
      const floor = e instanceof ApiError && e.retryAfterSeconds !== null ? e.retryAfterSeconds * 1000 : 0;
      await sleep(Math.min(max, Math.max(floor, backoff)), options.signal);
    }
  }
}
