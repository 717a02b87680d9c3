/**
 * The `sampling` stage (Promtail's): keeps each entry with probability `rate` (0 to 1) and drops
 * the others, counted under `drop_counter_reason` (default "sampling_stage"). The randomness is
 * the context's (Math.random in the function; tests inject their own); a retried record is
 * sampled afresh, so sampling is not deterministic per line.
 *
 * Unlike Promtail, `rate` is required: Promtail reads a missing rate as 0 and drops everything.
 */
import { StageOptions } from "./stage-options";
import type { Stage, StageFactory } from "./types";

export const SAMPLING_REASON = "sampling_stage";

export const samplingStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["rate", "drop_counter_reason"]);
  const form = "a number from 0 to 1: the share of entries kept, e.g. 0.1";
  const rate = options.number("rate", form);
  if (rate === undefined) throw options.fail("rate", "is required", form);
  if (rate < 0 || rate > 1) throw options.fail("rate", `must be from 0 to 1, got ${rate}`, form);
  const reason = options.string("drop_counter_reason", "a short reason counted for the dropped entries", "") || SAMPLING_REASON;
  const drop = { drop: reason };
  return {
    name: "sampling",
    process(_entry, ctx) {
      return ctx.random() < rate ? undefined : drop;
    },
  } satisfies Stage;
};
