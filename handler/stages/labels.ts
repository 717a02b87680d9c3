/**
 * The `labels` and `structured_metadata` stages: copy extracted values into the entry's labels
 * or its structured metadata. Options map the label (or field) name to the extracted name; an
 * empty value means the same name: `{"level": ""}`. A value that is missing, empty, or has no
 * string form (an object) sets nothing: Loki treats an empty label value as no label.
 */
import { isValidLabelName } from "../labels/names";
import { describeJson } from "../describe";
import { ConfigError } from "../config";
import { type Stage, type StageEntry, type StageFactory, writableLabels, writableMetadata } from "./types";
import { valueToString } from "./values";

const FORM = 'an object of names to extracted names, e.g. {"level":"","app":"service"} (empty: the same name); names are label names ([a-zA-Z_][a-zA-Z0-9_]*)';

/** Reads `{name: source}` where each name must be a valid label name. */
export function readNameMap(raw: unknown, where: string): Array<[string, string]> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(where, `must be an object, got ${describeJson(raw)}`, FORM);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw new ConfigError(where, "names nothing", FORM);
  return entries.map(([name, source]) => {
    if (!isValidLabelName(name)) throw new ConfigError(`${where}.${name}`, "is not a valid label name", FORM);
    if (source !== null && source !== undefined && typeof source !== "string") throw new ConfigError(`${where}.${name}`, `must be an extracted name or empty, got ${describeJson(source)}`, FORM);
    return [name, typeof source === "string" && source !== "" ? source : name];
  });
}

function copyStage(name: string, current: (entry: StageEntry) => Readonly<Record<string, string>>, writable: (entry: StageEntry) => Record<string, string>): StageFactory {
  return (raw, where) => {
    const mapping = readNameMap(raw, where);
    return {
      name,
      process(entry) {
        for (const [to, from] of mapping) {
          if (!Object.hasOwn(entry.extracted, from)) continue;
          const value = valueToString(entry.extracted[from]);
          // Writing the value a label already has would copy the stream's label set for nothing.
          if (value !== undefined && value !== "" && current(entry)[to] !== value) writable(entry)[to] = value;
        }
        return undefined;
      },
    } satisfies Stage;
  };
}

export const labelsStage = copyStage("labels", (entry) => entry.labels, writableLabels);
export const structuredMetadataStage = copyStage("structured_metadata", (entry) => entry.metadata, writableMetadata);
