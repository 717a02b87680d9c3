/**
 * A Loki stand-in whose pushes never answer, for tests of what happens at a cutoff (the shipper's
 * pipeline, the extension's outbox), and a bound on a wait so that a hang fails a test with a
 * message instead of a mocha timeout.
 */
import type { PushReport } from "../../handler/loki/client";
import type { Pusher } from "../../handler/pipeline";

/** Pushes never answer and ignore the deadline's signal; `answer` settles them later. */
export class HangingLoki implements Pusher {
  pushes = 0;
  private readonly waiting: ((report: PushReport) => void)[] = [];
  push(): Promise<PushReport> {
    this.pushes++;
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  answer(outcome: PushReport["outcome"]): void {
    for (const resolve of this.waiting.splice(0)) resolve({ outcome, pushes: 1, retries: 0, splits: 0, rejectedEntries: 0 });
  }
}

/** Settles like `promise`, or rejects after `ms` (so a hang fails the test with a message instead of a timeout). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
