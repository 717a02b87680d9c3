/**
 * The `regex` stage: matches `expression` (Go RE2, linear time) anywhere in the line or in
 * `source`, and puts each named group into the extracted map ("" for a group that did not take
 * part, as Go's FindStringSubmatch gives). No match leaves the entry alone.
 */
import { StageOptions } from "./stage-options";
import { readSource, SOURCE_FORM } from "./source";
import { setValue, type Stage, type StageFactory } from "./types";

export const regexStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["expression", "source"]);
  const expression = options.regex("expression", true);
  const source = options.string("source", SOURCE_FORM);
  if (source === "") throw options.fail("source", "is empty", SOURCE_FORM);
  const named = expression.groupNames.flatMap((name, index) => (name === undefined ? [] : [[name, index] as const]));
  return {
    name: "regex",
    process(entry) {
      const input = readSource(entry, source);
      if (input === undefined) return undefined;
      const match = expression.find(input);
      if (match === null) return undefined;
      for (const [name, index] of named) setValue(entry.extracted, name, match.group(index) ?? "");
      return undefined;
    },
  } satisfies Stage;
};
