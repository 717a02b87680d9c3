/**
 * Bounds every AWS SDK call of the function shares. The SDK sets none by default: a GetObject
 * that never answers, or an endpoint without a route (a VPC function without an endpoint or NAT),
 * waits until Lambda kills the function.
 *
 * Each attempt is bounded by the SDK's own request handler (connection and first byte); the call
 * as a whole, retries included, by a WaitLimit of the invocation's deadline (`sendWithin`), whose
 * AbortSignal the SDK honours and which also ends a stalled call at the invocation's cutoff.
 */
import { untilAborted, WaitLimit } from "./deadline";

/** TCP connection to an AWS endpoint, per attempt: a few ms in a region; 1 s lets one lost SYN be retried by the SDK rather than wait on. */
export const AWS_CONNECT_TIMEOUT_MS = 1000;
/**
 * Response headers, per attempt. AWS's S3 performance guidelines suggest retrying a request that
 * has not answered in about 2 s; the SDK's retry then gets a fresh connection.
 */
export const AWS_ATTEMPT_TIMEOUT_MS = 2000;

/** The `requestHandler` option of an SDK client: connection and first-byte bounds per attempt. */
export function boundedRequestHandler(attemptMs: number = AWS_ATTEMPT_TIMEOUT_MS) {
  return {
    connectionTimeout: Math.min(AWS_CONNECT_TIMEOUT_MS, attemptMs),
    requestTimeout: attemptMs,
    // Without it the SDK only logs a warning when requestTimeout passes and keeps waiting.
    throwOnRequestTimeout: true,
  };
}

/** What the SDK's `send` takes as its second argument. */
export interface SendOptions {
  abortSignal: AbortSignal;
  requestTimeout: number;
}

/**
 * Runs one SDK call (`send`, retries included) within `ms` and the invocation's cutoff. On
 * expiry it rejects with the limit's reason (WaitTimeoutError or DeadlineError) even if the SDK
 * is between two attempts. The limit stays usable afterwards (a GetObject body keeps it).
 */
export async function sendWithin<T>(limit: WaitLimit, ms: number, send: (options: SendOptions) => Promise<T>): Promise<T> {
  limit.arm(ms);
  try {
    return await untilAborted(send({ abortSignal: limit.signal, requestTimeout: Math.min(AWS_ATTEMPT_TIMEOUT_MS, ms) }), limit.signal);
  } catch (err) {
    throw limit.signal.aborted ? limit.signal.reason : err;
  } finally {
    limit.disarm();
  }
}
