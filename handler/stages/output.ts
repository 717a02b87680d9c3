/**
 * The `output` stage: replaces the line with an extracted value (`source`), e.g. the `msg`
 * field of a JSON line once the rest went into labels and metadata. A missing value, or one
 * without a string form, leaves the line alone.
 */
import { StageOptions } from "./stage-options";
import type { Stage, StageFactory } from "./types";
import { valueToString } from "./values";

export const outputStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["source"]);
  const source = options.requiredString("source", "the name of an extracted value that becomes the line");
  return {
    name: "output",
    process(entry) {
      if (!Object.hasOwn(entry.extracted, source)) return undefined;
      const value = valueToString(entry.extracted[source]);
      if (value !== undefined) entry.line = value;
      return undefined;
    },
  } satisfies Stage;
};
