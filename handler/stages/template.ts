/**
 * The `template` stage (Promtail's): runs a Go template (handler/stages/gotemplate.ts) and
 * stores its output in the extracted map under `source`.
 *
 * The template sees the extracted values that have text (numbers and booleans printed as Go
 * does; objects, arrays and null left out), `.Value` (the value of `source`, when it has text)
 * and `.Entry` (the line). An empty output removes `source` from the extracted map. A template
 * that fails on an entry (a function error, a missing value passed where text is needed)
 * leaves the entry unchanged, as in Promtail. The template is parsed at cold start: syntax
 * errors, unknown functions and invalid literal regular expressions are configuration errors
 * with their line and column.
 */
import { ConfigError } from "../config-error";
import { valueToString } from "./values";
import { Template, TemplateExecError, TemplateSyntaxError, type Value } from "./gotemplate";
import { StageOptions } from "./stage-options";
import { regexProblem, TEMPLATE_FUNCS } from "./template-funcs";
import { setValue, type Stage, type StageContext, type StageEntry, type StageFactory } from "./types";

const OPTIONS = ["source", "template"] as const;
const TEMPLATE_FORM = "a Go text/template using .Value, .Entry, extracted names and the functions Promtail documents (ToLower, ToUpper, Replace, Trim…, Hash, Sha2Hash, regexReplaceAll, …)";

export const template: StageFactory = (options, where) => {
  const opts = new StageOptions(options, where, OPTIONS);
  const source = opts.requiredString("source", "the name of the extracted value to set");
  const text = opts.string("template", TEMPLATE_FORM, "");
  return new TemplateStage(source, parseStageTemplate(text, `${where}.template`, TEMPLATE_FORM));
};

/** Parses a stage option's Go template with Promtail's functions; a syntax error is a ConfigError naming `setting`. */
export function parseStageTemplate(text: string, setting: string, form: string): Template {
  try {
    return Template.parse(text, TEMPLATE_FUNCS, regexProblem);
  } catch (err) {
    if (err instanceof TemplateSyntaxError) throw new ConfigError(setting, `${err.message} in ${JSON.stringify(text)}`, form);
    throw err;
  }
}

class TemplateStage implements Stage {
  readonly name = "template";

  constructor(
    private readonly source: string,
    private readonly template: Template,
  ) {}

  process(entry: StageEntry, ctx: StageContext): undefined {
    const data = new Map<string, Value>();
    for (const key of Object.keys(entry.extracted)) {
      const text = valueToString(entry.extracted[key]);
      if (text === undefined) continue;
      data.set(key, text);
      if (key === this.source) data.set("Value", text);
    }
    data.set("Entry", entry.line);
    let out: string;
    try {
      out = this.template.execute(data);
    } catch (err) {
      if (!(err instanceof TemplateExecError)) throw err;
      ctx.log.debug("template stage failed on an entry", { source: this.source, error: err.message });
      return undefined;
    }
    if (out === "") delete entry.extracted[this.source];
    else setValue(entry.extracted, this.source, out);
    return undefined;
  }
}
