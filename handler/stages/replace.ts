/**
 * The `replace` stage (Promtail's): in the line (or `source`), replaces the text of every capture
 * group of every match of `expression` with the output of the Go template `replace`; a pattern
 * without capture groups changes nothing, and the text outside the groups stays. The result
 * goes back where it was read.
 *
 * As in Promtail, the template is a full Go text/template with Promtail's functions
 * (handler/stages/gotemplate.ts, the `template` stage's engine): it sees the extracted values
 * that have text and `.Value`, the captured text of the group being replaced. Every named group
 * of the first match is put into the extracted map with its replacement (Promtail's
 * `capturedMap`: `status: HttpStatusOk`, not the captured `200`). A template that fails on an
 * entry (a function error) leaves the entry unchanged, as in Promtail; a template that cannot
 * be parsed is a configuration error.
 */
import { TemplateExecError, type Value } from "./gotemplate";
import { StageOptions } from "./stage-options";
import { readSource, SOURCE_FORM, writeSource } from "./source";
import { parseStageTemplate } from "./template";
import { setValue, type Stage, type StageContext, type StageEntry, type StageFactory } from "./types";
import { valueToString } from "./values";

const REPLACE_FORM = "a Go text/template using .Value (the captured text), extracted names and the functions of the template stage, e.g. \"****\" or \"{{ .Value | ToUpper }}\"";

export const replaceStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["expression", "source", "replace"]);
  const expression = options.regex("expression", true);
  const source = options.string("source", SOURCE_FORM);
  if (source === "") throw options.fail("source", "is empty", SOURCE_FORM);
  const text = options.string("replace", REPLACE_FORM, "");
  const template = parseStageTemplate(text, `${where}.replace`, REPLACE_FORM);
  const groupCount = expression.groupNames.length;
  return {
    name: "replace",
    process(entry: StageEntry, ctx: StageContext) {
      const input = readSource(entry, source);
      if (input === undefined) return undefined;
      let data: Map<string, Value> | undefined;
      let out = "";
      let copied = 0;
      let matched = false;
      // Named groups of the first match, with their replacement (Promtail's capturedMap).
      const named: Array<[string, string]> = [];
      try {
        // replaceAll walks the matches (Go's rules for empty ones); its own result is not used.
        expression.replaceAll(input, (match) => {
          for (let index = 1; index < groupCount; index++) {
            const captured = match.group(index);
            if (captured === undefined) continue;
            data ??= templateData(entry);
            data.set("Value", captured);
            const replacement = template.execute(data);
            const name = expression.groupNames[index];
            if (!matched && name !== undefined) named.push([name, replacement]);
            const at = match.groupStart(index);
            // A group inside an already replaced one (nested groups) has nothing left to replace.
            if (at < copied) continue;
            out += input.slice(copied, at) + replacement;
            copied = at + captured.length;
          }
          matched = true;
          return "";
        });
      } catch (err) {
        if (!(err instanceof TemplateExecError)) throw err;
        ctx.log.debug("replace stage: the template failed on an entry", { error: err.message });
        return undefined;
      }
      if (!matched) return undefined;
      writeSource(entry, source, out + input.slice(copied));
      for (const [name, replacement] of named) setValue(entry.extracted, name, replacement);
      return undefined;
    },
  } satisfies Stage;
};

/** The extracted values that have text, as Promtail's getTemplateData gives them to the template. */
function templateData(entry: StageEntry): Map<string, Value> {
  const data = new Map<string, Value>();
  for (const key of Object.keys(entry.extracted)) {
    const text = valueToString(entry.extracted[key]);
    if (text !== undefined) data.set(key, text);
  }
  return data;
}
