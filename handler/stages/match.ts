/**
 * The `match` stage (Promtail's): runs nested stages only for entries whose labels (and line)
 * match a LogQL selector (handler/stages/logql.ts), or drops those entries.
 *
 * Options: `selector` (required: `{name="v", other=~"re"}` with optional line filters
 * `|= "text"`, `!= "text"`, `|~ "re"`, `!~ "re"`), `stages` (required with `action: keep`,
 * refused with `action: drop`), `action` (`keep`, the default, or `drop`),
 * `drop_counter_reason` (default `match_stage`), `pipeline_name` (a name for the nested
 * pipeline, as Promtail; it may be omitted but not empty).
 *
 * Nested `stages` work here; in lambda-promtail 1.0 every nested match fails to build.
 */
import { ConfigError } from "../config-error";
import { compileSelector, parseSelector, SelectorSyntaxError, type SelectorMatcher } from "./logql";
import { StageOptions } from "./stage-options";
import type { Stage, StageContext, StageEntry, StageFactory, StageResult } from "./types";

const OPTIONS = ["selector", "stages", "action", "drop_counter_reason", "pipeline_name"] as const;
const ACTION_FORM = "keep (the default) or drop";
const SELECTOR_FORM = 'a LogQL stream selector with optional line filters, e.g. {app="api", env=~"prod|dev"} |= "error" !~ "health"';

export const DEFAULT_MATCH_DROP_REASON = "match_stage";

export const match: StageFactory = (options, where, compileNested) => {
  const opts = new StageOptions(options, where, OPTIONS);
  const text = opts.requiredString("selector", SELECTOR_FORM);
  // Promtail reads an empty action as the default.
  const action = opts.string("action", ACTION_FORM, "") || "keep";
  if (action !== "keep" && action !== "drop") opts.fail("action", `${JSON.stringify(action)} is not supported`, ACTION_FORM);
  if (opts.string("pipeline_name", "a name for the nested pipeline") === "") opts.fail("pipeline_name", "is empty", "a name for the nested pipeline, or leave it out");
  const reason = opts.string("drop_counter_reason", "the reason counted for dropped entries") || DEFAULT_MATCH_DROP_REASON;

  let matches: SelectorMatcher;
  try {
    matches = compileSelector(parseSelector(text));
  } catch (err) {
    if (err instanceof SelectorSyntaxError) throw new ConfigError(`${where}.selector`, `${JSON.stringify(text)}: ${err.reason} at column ${err.offset + 1}`, SELECTOR_FORM);
    throw err;
  }

  const nested = opts.raw("stages");
  const hasStages = Array.isArray(nested) ? nested.length > 0 : nested !== undefined && nested !== null;
  if (action === "drop") {
    if (hasStages) throw new ConfigError(`${where}.stages`, "a match stage that drops entries cannot have stages", 'no stages with "action": "drop"');
    return new MatchStage(matches, undefined, reason);
  }
  if (!hasStages) throw new ConfigError(`${where}.stages`, "missing: a match stage that keeps entries needs at least one stage to run on them", 'a list of stages, e.g. [{"labels": {"level": ""}}]');
  return new MatchStage(matches, compileNested(nested, `${where}.stages`), reason);
};

class MatchStage implements Stage {
  readonly name = "match";

  constructor(
    private readonly matches: SelectorMatcher,
    /** undefined: drop what matches. */
    private readonly stages: readonly Stage[] | undefined,
    private readonly reason: string,
  ) {}

  process(entry: StageEntry, ctx: StageContext): StageResult {
    if (!this.matches(entry.labels, entry.line)) return undefined;
    if (this.stages === undefined) return { drop: this.reason };
    for (const stage of this.stages) {
      const result = stage.process(entry, ctx);
      if (result !== undefined) return result;
    }
    return undefined;
  }
}
