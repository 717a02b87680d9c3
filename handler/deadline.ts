/**
 * The invocation's deadline, as everything that waits sees it.
 *
 * Lambda treats an answer after the deadline as a timeout: the partial-failure report is lost
 * and the whole batch comes back. So the handler keeps a safety margin before the deadline (the
 * cutoff): at the cutoff every wait on the network is aborted through `signal`, reading stops,
 * and the records not delivered are reported failed in the time that is left.
 *
 * Single waits are bounded more tightly still (`waitMs`, `limit`): one stalled S3 object or AWS
 * call may take only a share of the time left, so the other records of the batch still get theirs.
 */
import type { Deadline } from "./types";

/** Time kept back before the deadline to report failures and return (at most). */
export const SAFETY_MARGIN_MS = 1000;
/** ...but never more than this share of the time the invocation had when it started (short test contexts). */
const SAFETY_MARGIN_MAX_SHARE = 0.25;
/** One wait on the network may use at most this share of the usable time left. */
const WAIT_SHARE = 0.25;
/** A wait bound below this would fail healthy calls (a TLS handshake alone can take tens of ms). */
const MIN_WAIT_MS = 50;

/** Why a wait was aborted: the invocation reached its cutoff. */
export class DeadlineError extends Error {
  constructor(marginMs: number) {
    super(`the invocation's time is up (${Math.round(marginMs)} ms before the Lambda deadline are kept to report what failed)`);
    this.name = "DeadlineError";
  }
}

/** Why a single wait was aborted: it took longer than its bound. */
export class WaitTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${Math.round(ms)} ms`);
    this.name = "WaitTimeoutError";
  }
}

/**
 * The AbortSignal of one call on the network (a GetObject and its body, one lookup): it aborts
 * at the invocation's cutoff, when an armed wait runs over its bound, or on `abort`.
 */
export class WaitLimit {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onCutoff = () => this.abort(this.cutoff.reason);

  constructor(private readonly what: string, private readonly cutoff: AbortSignal) {
    if (cutoff.aborted) this.onCutoff();
    else cutoff.addEventListener("abort", this.onCutoff, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Aborts with a WaitTimeoutError unless `disarm` is called within `ms`. */
  arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.abort(new WaitTimeoutError(this.what, ms)), ms);
    this.timer.unref();
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  abort(reason: unknown): void {
    this.disarm();
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** The call is over: no timer, no listener on the invocation's signal. */
  clear(): void {
    this.disarm();
    this.cutoff.removeEventListener("abort", this.onCutoff);
  }
}

export class InvocationDeadline {
  /** Time kept back before the deadline, fixed when the invocation starts. */
  readonly marginMs: number;
  /**
   * The time pushes and reads may use: what is left up to the cutoff, with `signal`. This is the
   * deadline the Loki client gets, so no push outlives the cutoff.
   */
  readonly usable: Deadline;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly remaining: () => number, marginMs: number = SAFETY_MARGIN_MS) {
    this.marginMs = Math.min(marginMs, Math.max(0, remaining()) * SAFETY_MARGIN_MAX_SHARE);
    const usableMs = () => this.usableMs();
    const signal = () => this.signal;
    this.usable = {
      remainingMs: usableMs,
      get signal() {
        return signal();
      },
    };
  }

  /** A deadline `ms` from now (replay, tests, benchmarks: no Lambda context). */
  static in(ms: number, marginMs?: number): InvocationDeadline {
    const end = Date.now() + ms;
    return new InvocationDeadline(() => end - Date.now(), marginMs);
  }

  /** Milliseconds until the Lambda deadline. */
  remainingMs(): number {
    return this.remaining();
  }

  /** Milliseconds until the cutoff. */
  usableMs(): number {
    return this.remaining() - this.marginMs;
  }

  /** Aborted (with a DeadlineError) at the cutoff. Created on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const abort = () => controller.abort(new DeadlineError(this.marginMs));
      const ms = this.usableMs();
      if (ms <= 0) abort();
      else {
        this.timer = setTimeout(abort, ms);
        // Never keep a replay or test process alive for a deadline alone.
        this.timer.unref();
      }
    }
    return this.controller.signal;
  }

  /** The longest one wait on the network may last now: `capMs`, but no more than a share of the usable time. */
  waitMs(capMs: number): number {
    return Math.max(MIN_WAIT_MS, Math.min(capMs, this.usableMs() * WAIT_SHARE));
  }

  /** A WaitLimit for one call, named `what` in its errors. */
  limit(what: string): WaitLimit {
    return new WaitLimit(what, this.signal);
  }

  /** Stops the cutoff timer (the invocation is over; a frozen timer must not fire in the next one). */
  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** Settles like `promise`, or rejects with the signal's reason once it aborts (the promise is abandoned). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
