/**
 * When to push: after each invocation, or in the background while the function is busy.
 *
 * Pushing an invocation's lines after its `platform.runtimeDone` and before asking for the next
 * event keeps nothing waiting in a frozen environment, but adds the push to every invocation's
 * duration. For a function invoked several times a second that latency buys nothing: the next
 * invocation thaws the environment a moment later anyway. So, like Datadog's extension (which
 * flushes at the end of invocations until a function is busy, then periodically), the `auto`
 * strategy measures the invocation rate of this execution environment over its last
 * RATE_WINDOW invocations and switches to background pushes at `busyRate`, back at half of it
 * (the gap keeps one rate near the threshold from flapping between the two).
 *
 * Pure: time is passed in.
 */
import type { FlushStrategy } from "./config";

export type Regime = "end-of-invocation" | "background";

/** Invocations whose start times give the rate. */
export const RATE_WINDOW = 10;
/** The rate is not trusted before this many invocations. */
const MIN_SAMPLES = 4;

export class FlushPolicy {
  private readonly starts: number[] = [];
  private busy = false;

  constructor(private readonly options: { strategy: FlushStrategy; busyRate: number }) {}

  /** Records an invocation starting at `now` (ms) and returns how its lines are to be pushed. */
  onInvoke(now: number): Regime {
    this.starts.push(now);
    if (this.starts.length > RATE_WINDOW) this.starts.shift();
    if (this.options.strategy === "end-of-invocation") return "end-of-invocation";
    const rate = this.rate();
    if (rate !== undefined) {
      if (!this.busy && rate >= this.options.busyRate) this.busy = true;
      else if (this.busy && rate < this.options.busyRate / 2) this.busy = false;
    }
    return this.busy ? "background" : "end-of-invocation";
  }

  /** Invocations per second over the window, when there are enough samples. */
  rate(): number | undefined {
    if (this.starts.length < MIN_SAMPLES) return undefined;
    const spanMs = this.starts[this.starts.length - 1] - this.starts[0];
    return spanMs <= 0 ? Infinity : ((this.starts.length - 1) * 1000) / spanMs;
  }

  get regime(): Regime {
    return this.busy ? "background" : "end-of-invocation";
  }
}
