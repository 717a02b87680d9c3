/**
 * The `labels` and `structured_metadata` stages: copy extracted values into the entry's labels
 * or its structured metadata. Options map the label (or field) name to the extracted name; an
 * empty value means the same name: `{"level": ""}`. A value that is missing, empty, or has no
 * string form (an object) sets nothing: Loki treats an empty label value as no label.
 */
import { isValidLabelName } from "../labels/names";
import { describeJson } from "../describe";
import { ConfigError } from "../config-error";
import { setLabel, setValue, type Stage, type StageEntry, type StageFactory, writableMetadata } from "./types";
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

function copyStage(name: string, set: (entry: StageEntry, name: string, value: string) => void): StageFactory {
  return (raw, where) => {
    const mapping = readNameMap(raw, where);
    const targets = mapping.map(([to]) => to);
    const sources = mapping.map(([, from]) => from);
    return {
      name,
      process(entry) {
        const extracted = entry.extracted;
        for (let i = 0; i < sources.length; i++) {
          if (!Object.hasOwn(extracted, sources[i])) continue;
          const value = valueToString(extracted[sources[i]]);
          if (value !== undefined && value !== "") set(entry, targets[i], value);
        }
        return undefined;
      },
    } satisfies Stage;
  };
}

export const labelsStage = copyStage("labels", setLabel);
export const structuredMetadataStage = copyStage("structured_metadata", (entry, name, value) => {
  // Writing the value a field already has would copy the entry's metadata for nothing.
  if (entry.metadata[name] !== value) setValue(writableMetadata(entry), name, value);
});
