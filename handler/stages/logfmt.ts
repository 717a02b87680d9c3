/**
 * The `logfmt` stage: reads `key=value key2="quoted value"` pairs from the line or `source` and
 * extracts the fields named in `mapping` (extracted name -> logfmt key, empty meaning the same
 * name). The reading follows go-logfmt: a key runs to `=` or a space, a value is bare (to the
 * next space) or double-quoted with Go escapes, a key without `=` has an empty value. Reading
 * stops at the first malformed pair, keeping what was read before it.
 */
import { StageOptions } from "./stage-options";
import { readSource, SOURCE_FORM } from "./source";
import { setValue, type Stage, type StageFactory } from "./types";

const MAPPING_FORM = 'an object of extracted names to logfmt keys, e.g. {"level":"","status":"http_status"} (empty: the same name)';

export const logfmtStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["mapping", "source"]);
  const mapping = options.nameMap("mapping", MAPPING_FORM);
  if (mapping === undefined || mapping.size === 0) throw options.fail("mapping", "is required and must name at least one field", MAPPING_FORM);
  const source = options.string("source", SOURCE_FORM);
  // logfmt key -> extracted names reading it
  const wanted = new Map<string, string[]>();
  for (const [name, key] of mapping) wanted.set(key, [...(wanted.get(key) ?? []), name]);
  return {
    name: "logfmt",
    process(entry) {
      const input = readSource(entry, source);
      if (input === undefined) return undefined;
      readLogfmt(input, (key, value) => {
        const names = wanted.get(key);
        if (names !== undefined) for (const name of names) setValue(entry.extracted, name, value);
      });
      return undefined;
    },
  } satisfies Stage;
};

/** Calls `pair` for each key/value in order; returns false when the input is malformed (pairs before it were reported). */
export function readLogfmt(input: string, pair: (key: string, value: string) => void): boolean {
  let i = 0;
  const n = input.length;
  while (i < n) {
    while (i < n && input.charCodeAt(i) <= 32) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && input.charCodeAt(i) > 32 && input[i] !== "=" && input[i] !== '"') i++;
    if (i === keyStart) return false; // a value or quote where a key should be
    const key = input.slice(keyStart, i);
    if (i >= n || input[i] !== "=") {
      if (i < n && input[i] === '"') return false;
      pair(key, "");
      continue;
    }
    i++; // =
    if (i < n && input[i] === '"') {
      const quoted = readQuoted(input, i);
      if (quoted === undefined) return false;
      pair(key, quoted.value);
      i = quoted.end;
      continue;
    }
    const valueStart = i;
    while (i < n && input.charCodeAt(i) > 32) {
      if (input[i] === '"' || input[i] === "=") return false;
      i++;
    }
    pair(key, input.slice(valueStart, i));
  }
  return true;
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

function readQuoted(input: string, start: number): { value: string; end: number } | undefined {
  let value = "";
  let i = start + 1;
  while (i < input.length) {
    const c = input[i];
    if (c === '"') return { value, end: i + 1 };
    if (c !== "\\") {
      value += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === "u" && /^[0-9a-fA-F]{4}$/.test(input.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(input.slice(i + 2, i + 6), 16));
      i += 6;
    } else if (next !== undefined && Object.hasOwn(ESCAPES, next)) {
      value += ESCAPES[next];
      i += 2;
    } else {
      return undefined;
    }
  }
  return undefined; // unterminated
}
