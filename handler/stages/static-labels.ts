/** The `static_labels` stage: adds fixed labels, `{"environment": "prod"}`. */
import { ConfigError } from "../config-error";
import { describeJson } from "../describe";
import { isValidLabelName } from "../labels/names";
import { type Stage, type StageFactory, setLabel } from "./types";

const FORM = 'an object of label names to non-empty values, e.g. {"environment":"prod"}';

export const staticLabelsStage: StageFactory = (raw, where) => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(where, `must be an object, got ${describeJson(raw)}`, FORM);
  const labels = Object.entries(raw as Record<string, unknown>).map(([name, value]): [string, string] => {
    if (!isValidLabelName(name)) throw new ConfigError(`${where}.${name}`, "is not a valid label name", FORM);
    if (typeof value !== "string" || value === "") throw new ConfigError(`${where}.${name}`, `must be a non-empty string, got ${describeJson(value)}`, FORM);
    return [name, value];
  });
  if (labels.length === 0) throw new ConfigError(where, "names no label", FORM);
  return {
    name: "static_labels",
    process(entry) {
      for (const [name, value] of labels) setLabel(entry, name, value);
      return undefined;
    },
  } satisfies Stage;
};
