/**
 * The `labelallow` and `labeldrop` stages: keep only, or remove, the listed labels. Their
 * option is the list itself, as in Promtail: `{"labeldrop": ["filename", "pod"]}`.
 */
import { ConfigError } from "../config-error";
import { describeJson } from "../describe";
import { isValidLabelName } from "../labels/names";
import { type Stage, type StageFactory, writableLabels } from "./types";

const FORM = 'a list of label names, e.g. ["level","app"]';

function readNames(raw: unknown, where: string): Set<string> {
  if (!Array.isArray(raw)) throw new ConfigError(where, `must be a list of label names, got ${describeJson(raw)}`, FORM);
  if (raw.length === 0) throw new ConfigError(where, "names no label", FORM);
  raw.forEach((name, i) => {
    if (typeof name !== "string" || !isValidLabelName(name)) throw new ConfigError(`${where}[${i}]`, `${describeJson(name)} is not a valid label name`, FORM);
  });
  return new Set(raw as string[]);
}

export const labelAllowStage: StageFactory = (raw, where) => {
  const allowed = readNames(raw, where);
  return {
    name: "labelallow",
    process(entry) {
      // Only an entry that loses a label gets a label set of its own.
      for (const name of Object.keys(entry.labels)) if (!allowed.has(name)) delete writableLabels(entry)[name];
      return undefined;
    },
  } satisfies Stage;
};

export const labelDropStage: StageFactory = (raw, where) => {
  const dropped = readNames(raw, where);
  return {
    name: "labeldrop",
    process(entry) {
      for (const name of dropped) if (Object.hasOwn(entry.labels, name)) delete writableLabels(entry)[name];
      return undefined;
    },
  } satisfies Stage;
};
