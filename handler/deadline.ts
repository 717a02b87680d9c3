/**
 * The invocation's deadline, as everything that waits sees it.
 *
 * Lambda treats an answer after the deadline as a timeout: the partial-failure report is lost
 * and the whole batch comes back. So the handler keeps a safety margin before the deadline (the
 * cutoff): at the cutoff every wait on the network is aborted through `signal`, reading stops,
 * and the records not delivered are reported failed in the time that is left.
 */
import type { Deadline } from "./types";

/** Time kept back before the deadline to report failures and return (at most). */
export const SAFETY_MARGIN_MS = 1000;
/** ...but never more than this share of the time the invocation had when it started (short test contexts). */
const SAFETY_MARGIN_MAX_SHARE = 0.25;

/** Why a wait was aborted: the invocation reached its cutoff. */
export class DeadlineError extends Error {
  constructor(marginMs: number) {
    super(`the invocation's time is up (${Math.round(marginMs)} ms before the Lambda deadline are kept to report what failed)`);
    this.name = "DeadlineError";
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

  /** Stops the cutoff timer (the invocation is over; a frozen timer must not fire in the next one). */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
