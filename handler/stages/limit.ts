/**
 * The `limit` stage (Promtail's): a token bucket of `rate` entries per second and `burst`
 * entries (golang.org/x/time/rate's semantics: full at the start, refilled continuously); an
 * entry finding no token is dropped and counted as "ratelimit_drop_stage". With
 * `by_label_name`, each value of that label (of the entry's labels) has its own bucket, at most
 * `max_distinct_labels` of them (default and minimum 10000, as in Promtail: beyond it the least
 * recently seen are forgotten); an entry without the label is not limited.
 *
 * The buckets live as long as the compiled pipeline, i.e. the warm container (and the
 * extension's process), not one invocation; they read the context's clock.
 *
 * `drop: true` is required here. Promtail's default (`drop: false`) makes it wait until a
 * token frees up; a Lambda would be billed for the wait, hold the event source back, and time
 * out on a burst it cannot absorb before its deadline, after which the whole event is retried.
 */
import { GenerationalCache } from "../labels/pipeline";
import { StageOptions } from "./stage-options";
import type { Stage, StageFactory } from "./types";

export const RATELIMIT_REASON = "ratelimit_drop_stage";
/** Promtail's MinReasonableMaxDistinctLabels: a smaller max_distinct_labels is raised to it. */
export const MIN_DISTINCT_LABELS = 10_000;

/** A token bucket as golang.org/x/time/rate's Limiter with Allow(). */
export class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes a token at `nowMs` if one is there. */
  allow(nowMs: number): boolean {
    if (this.lastMs !== undefined && nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.ratePerSecond);
    }
    // A clock that steps back refills nothing (x/time/rate treats it as no time passed).
    if (this.lastMs === undefined || nowMs > this.lastMs) this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export const limitStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["rate", "burst", "drop", "by_label_name", "max_distinct_labels"]);
  const rateForm = "a number of entries per second above 0, e.g. 100";
  const rate = options.number("rate", rateForm);
  if (rate === undefined) throw options.fail("rate", "is required", rateForm);
  if (!(rate > 0)) throw options.fail("rate", `must be above 0, got ${rate}`, rateForm);
  const burstForm = "a whole number of entries, at least 1, e.g. 200";
  const burst = options.integer("burst", burstForm, 1);
  if (burst === undefined) throw options.fail("burst", "is required", burstForm);
  if (!options.boolean("drop", false)) {
    throw options.fail(
      "drop",
      "is false (Promtail's default), which makes Promtail wait for the rate to allow each line; a Lambda would be billed for the wait and time out on a burst it cannot absorb before its deadline, after which the whole event is retried",
      'true: entries over the rate are dropped and counted as ratelimit_drop_stage (to slow the input instead, lower the event source\'s batch size or the function\'s reserved concurrency)',
    );
  }
  const byLabel = options.string("by_label_name", "a label name: one bucket per value of that label");
  const maxDistinct = Math.max(MIN_DISTINCT_LABELS, options.integer("max_distinct_labels", `a whole number of label values (at least ${MIN_DISTINCT_LABELS}, Promtail's minimum)`, 1) ?? MIN_DISTINCT_LABELS);
  const drop = { drop: RATELIMIT_REASON };
  if (byLabel === undefined || byLabel === "") {
    const bucket = new TokenBucket(rate, burst);
    return {
      name: "limit",
      process(_entry, ctx) {
        return bucket.allow(ctx.now()) ? undefined : drop;
      },
    } satisfies Stage;
  }
  const buckets = new GenerationalCache<TokenBucket>(maxDistinct);
  return {
    name: "limit",
    process(entry, ctx) {
      const value = entry.labels[byLabel];
      if (value === undefined) return undefined;
      let bucket = buckets.get(value);
      if (bucket === undefined) buckets.set(value, (bucket = new TokenBucket(rate, burst)));
      return bucket.allow(ctx.now()) ? undefined : drop;
    },
  } satisfies Stage;
};
