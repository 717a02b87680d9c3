/**
 * The deadline of one flush of the extension, as the Loki client and the outbox see it: the time
 * left up to `endMs`, and a signal that aborts at `endMs`.
 *
 * Its end can only move earlier: a flush that started in the background (its end an interval
 * away, or the invocation's deadline) may still run when SHUTDOWN or the end of the next
 * invocation needs the outbox, whose deadline is sooner. Waiting for it to end on its own would
 * hold the extension past that deadline (at SHUTDOWN Lambda kills it after about 2 s; at the end
 * of an invocation the function would time out), so the newcomer brings the running flush's end
 * forward to its own (`advanceTo`), and its pushes are cut off then.
 *
 * At the cutoff the signal aborts: the Loki client destroys the request in flight and ends a
 * backoff at once, and the outbox stops waiting for pushes and keeps their lines (outbox.ts).
 */
import type { Deadline } from "../handler/types";

/** Why a flush's waits were aborted. */
export class FlushCutoffError extends Error {
  constructor() {
    super("the flush reached its cutoff (LOKI_FLUSH_TIMEOUT_MS, or the invocation's or SHUTDOWN's deadline less the extension's margin)");
    this.name = "FlushCutoffError";
  }
}

export class FlushCutoff implements Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  /** `endMs`: epoch milliseconds. */
  constructor(private endMs: number) {
    this.arm();
  }

  /** Epoch milliseconds of the cutoff. */
  get end(): number {
    return this.endMs;
  }

  remainingMs(): number {
    return this.endMs - Date.now();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Brings the cutoff forward to `endMs` (never back). */
  advanceTo(endMs: number): void {
    if (endMs >= this.endMs) return;
    this.endMs = endMs;
    this.arm();
  }

  /** The flush is over: no timer is left (a frozen environment must not fire it in the next invocation). */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Aborts once the clock reaches the end. Node's timers run on a monotonic clock and may fire a
   * millisecond before `Date.now()` reaches the end: a timer that fires early is armed again for
   * what is left, so an aborted signal always means no time is left.
   */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.controller.signal.aborted) return;
    const ms = this.remainingMs();
    if (ms <= 0) this.abort();
    else this.timer = setTimeout(() => this.arm(), ms);
  }

  private abort(): void {
    this.timer = undefined;
    if (!this.controller.signal.aborted) this.controller.abort(new FlushCutoffError());
  }
}
