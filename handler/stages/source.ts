/**
 * Where parsing stages read their input: the line, or (with `source`) a value of the extracted
 * map, as Promtail's stages do. A missing source leaves the entry alone; a value without a
 * string form (an object) too.
 */
import { setValue, type StageEntry } from "./types";
import { valueToString } from "./values";

export function readSource(entry: StageEntry, source: string | undefined): string | undefined {
  if (source === undefined) return entry.line;
  if (!Object.hasOwn(entry.extracted, source)) return undefined;
  return valueToString(entry.extracted[source]);
}

/** Writes a result back where it was read from. */
export function writeSource(entry: StageEntry, source: string | undefined, value: string): void {
  if (source === undefined) entry.line = value;
  else setValue(entry.extracted, source, value);
}

export const SOURCE_FORM = "the name of an extracted value to read instead of the log line";
