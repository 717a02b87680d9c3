/**
 * The `replace` stage: in the line (or `source`), replaces the text of every capture group of
 * every match of `expression` with `replace`, as Promtail does (a pattern without capture
 * groups changes nothing; the text outside the groups stays). The named groups are also put
 * into the extracted map with the text they captured. The result goes back where it was read.
 *
 * `replace` may refer to `{{ .Value }}` (the captured text) and to `{{ .name }}` (a named group
 * or an extracted value); Go-template functions are not available here: transform the
 * extracted value with a `template` stage first, or use the masking recipe in the README.
 */
import { ConfigError } from "../config";
import { StageOptions } from "./stage-options";
import { readSource, SOURCE_FORM, writeSource } from "./source";
import type { Stage, StageEntry, StageFactory } from "./types";
import { valueToString } from "./values";

type Part = { text: string } | { ref: string };

const REPLACE_FORM = "text, with {{ .Value }} for the captured text and {{ .name }} for a named group or extracted value";

export const replaceStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["expression", "source", "replace"]);
  const expression = options.regex("expression", true);
  const source = options.string("source", SOURCE_FORM);
  const template = parseReplace(options.string("replace", REPLACE_FORM, ""), `${where}.replace`);
  const groupCount = expression.groupNames.length;
  return {
    name: "replace",
    process(entry) {
      const input = readSource(entry, source);
      if (input === undefined) return undefined;
      let out = "";
      let copied = 0;
      let changed = false;
      const captured: Record<string, string> = {};
      // replaceAll walks the matches (Go's rules for empty ones); its own result is not used.
      expression.replaceAll(input, (match) => {
        for (let index = 1; index < groupCount; index++) {
          const text = match.group(index);
          const at = match.groupStart(index);
          // A group inside an already replaced one (nested groups) has nothing left to replace.
          if (text === undefined || at < copied) continue;
          const name = expression.groupNames[index];
          if (name !== undefined) captured[name] = text;
          out += input.slice(copied, at) + expand(template, text, entry, captured);
          copied = at + text.length;
          changed = true;
        }
        return "";
      });
      for (const [name, text] of Object.entries(captured)) entry.extracted[name] = text;
      if (changed) writeSource(entry, source, out + input.slice(copied));
      return undefined;
    },
  } satisfies Stage;
};

function expand(parts: readonly Part[], value: string, entry: StageEntry, captured: Readonly<Record<string, string>>): string {
  let out = "";
  for (const part of parts) {
    if ("text" in part) out += part.text;
    else if (part.ref === "Value") out += value;
    else out += captured[part.ref] ?? valueToString(entry.extracted[part.ref]) ?? "";
  }
  return out;
}

const REFERENCE = /\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}/y;

function parseReplace(template: string, setting: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{{", i);
    if (open < 0) break;
    if (open > i) parts.push({ text: template.slice(i, open) });
    REFERENCE.lastIndex = open;
    const m = REFERENCE.exec(template);
    if (m === null) {
      throw new ConfigError(setting, `${JSON.stringify(template)}: only {{ .Value }} and {{ .name }} references are supported here`, `${REPLACE_FORM}; for template functions, run a template stage on the extracted value`);
    }
    parts.push({ ref: m[1] });
    i = REFERENCE.lastIndex;
  }
  if (i < template.length) parts.push({ text: template.slice(i) });
  return parts;
}
