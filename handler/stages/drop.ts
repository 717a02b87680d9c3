/**
 * The `drop` stage: drops the entry when every condition given holds (Promtail's semantics):
 * - `source` (one name or a list, joined by `separator`, default ";"): the value(s) exist; with
 *   `value`, the joined value equals it; with `expression`, the expression matches it;
 * - `expression` without `source`: the expression matches the line;
 * - `older_than`: the entry's time is older than that far before now;
 * - `longer_than`: the line is longer than that many bytes (UTF-8).
 * The drop is counted under `drop_counter_reason` (default "drop_stage").
 */
import { StageOptions } from "./stage-options";
import type { Stage, StageEntry, StageFactory } from "./types";
import { BYTES_FORM, DURATION_FORM, parseByteSize, parseGoDuration } from "./units";
import { valueToString } from "./values";

const SOURCE_FORM = 'an extracted name, or a list of them, e.g. "level" or ["level","path"]';

export const dropStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["source", "separator", "expression", "value", "older_than", "longer_than", "drop_counter_reason"]);
  const sources = options.stringList("source", SOURCE_FORM);
  if (sources !== undefined && (sources.length === 0 || sources.some((s) => s === ""))) throw options.fail("source", "names an empty source", SOURCE_FORM);
  const separator = options.string("separator", "a string joining the source values", ";");
  const expression = options.regex("expression", false);
  const value = options.string("value", "the exact value of the source that drops the entry");
  if (value !== undefined && expression !== undefined) throw options.fail("value", "cannot be set together with expression", "either value or expression");
  if (value !== undefined && sources === undefined) throw options.fail("value", "needs a source to compare with", "value together with source");
  const olderThanText = options.string("older_than", DURATION_FORM);
  const olderThanMs = olderThanText === undefined ? undefined : parseGoDuration(olderThanText);
  if (olderThanText !== undefined && (olderThanMs === undefined || olderThanMs <= 0)) throw options.fail("older_than", `${JSON.stringify(olderThanText)} is not a positive duration`, DURATION_FORM);
  const longerThan = options.has("longer_than") ? parseByteSize(options.raw("longer_than")) : undefined;
  if (options.has("longer_than") && longerThan === undefined) throw options.fail("longer_than", `${JSON.stringify(options.raw("longer_than"))} is not a size`, BYTES_FORM);
  const reason = options.string("drop_counter_reason", "a short reason counted for the dropped entries", "drop_stage");
  if (sources === undefined && expression === undefined && olderThanMs === undefined && longerThan === undefined) {
    throw options.fail("source", "is not set, and neither is expression, older_than or longer_than: the stage would drop nothing", "at least one of source, expression, older_than, longer_than");
  }
  const drop = { drop: reason };

  const sourceValue = (entry: StageEntry): string | undefined => {
    if (sources === undefined) return entry.line;
    let joined = "";
    for (let i = 0; i < sources.length; i++) {
      if (!Object.hasOwn(entry.extracted, sources[i])) return undefined;
      const text = valueToString(entry.extracted[sources[i]]);
      if (text === undefined) return undefined;
      joined = i === 0 ? text : joined + separator + text;
    }
    return joined;
  };

  return {
    name: "drop",
    process(entry, ctx) {
      if (olderThanMs !== undefined && entry.sec * 1000 + entry.nsec / 1e6 >= ctx.now() - olderThanMs) return undefined;
      if (longerThan !== undefined && Buffer.byteLength(entry.line, "utf8") <= longerThan) return undefined;
      if (sources !== undefined || expression !== undefined) {
        const input = sourceValue(entry);
        if (input === undefined) return undefined;
        if (value !== undefined && input !== value) return undefined;
        if (expression !== undefined && !expression.test(input)) return undefined;
      }
      return drop;
    },
  } satisfies Stage;
};
