/**
 * What LOKI_STAGE_CONFIGS can do to an entry's labels. The stages run after the label pipeline,
 * on each entry, with the stream's labels as Promtail's extracted map; the pack cannot see the
 * log lines, so it runs the handler's own stage code wherever the input is known and follows
 * symbolically what comes from the line:
 *  - the label stages (`labels`, `static_labels`, `labelallow`, `labeldrop`, and any other stage
 *    classified "labels" below) always run as the handler compiled them;
 *  - a parsing stage (`json`, `logfmt`, `regex`, `replace`) reading the line, or a value parsed
 *    from it, sets each name it can extract to a symbol recording where the value came from
 *    (the stage, the extracted name, the JSON path's field names, the logfmt key, the regex
 *    group); reading a known value (a label), it runs as compiled;
 *  - `template` runs as compiled, then again with each symbolic input changed: when its output
 *    follows an input that comes from the line, the output is a symbol carrying that input's
 *    names (a Hash or ToLower of a request id is still one request id per value); a template that
 *    only tests the line (`if contains … "error"`) yields a known value;
 *  - `match` runs its nested stages on some entries and not on others: both paths are followed
 *    (the drop action drops on one of them), up to MAX_PATHS paths, unless the caller says which
 *    labels are decided (the same for every entry, see cardinality.ts decidedLabels) and the
 *    selector's label matchers on decided labels settle it: one that fails there makes the
 *    stages' path impossible, and when all of them hold and there is no line filter the path
 *    around the stages is. An impossible path stays in place as null, so paths keep lining up.
 *    A `labels` stage makes the labels it writes undecided (their value may come from the line);
 *    `static_labels` writes decided ones; the label filters and `pack` remove labels by name.
 * The result is one label set per path, in an order that depends on the configuration only, so
 * label sets computed from different base labels can be compared path by path.
 */
import { STAGES } from "../../handler/stages";
import type { Stage, StageContext, StageEntry } from "../../handler/stages/types";
import { Regex } from "../../handler/regex";
import { compileSelector, parseSelector } from "../../handler/stages/logql";
import { TENANT_LABEL } from "../../handler/labels/tenant";
import type { Labels, Log } from "../../handler/types";

/** What each stage can do to labels; every stage of the registry must be listed (a test checks). */
export const STAGE_EFFECTS: Readonly<Record<string, "labels" | "extract" | "template" | "match" | "none">> = {
  labels: "labels",
  static_labels: "labels",
  labelallow: "labels",
  labeldrop: "labels",
  // Promtail's pack moves the named labels into the line: it only removes labels.
  pack: "labels",
  json: "extract",
  logfmt: "extract",
  regex: "extract",
  replace: "extract",
  template: "template",
  match: "match",
  // Line, timestamp, metadata, tenant or dropping only.
  structured_metadata: "none",
  output: "none",
  drop: "none",
  decolorize: "none",
  luhn: "none",
  timestamp: "none",
  tenant: "none",
  sampling: "none",
  limit: "none",
};

/**
 * Paths followed at most: each match stage doubles them. Past this, a later match stage is taken
 * as running its nested stages on every entry (and a drop action as dropping none).
 */
export const MAX_PATHS = 64;

/** A value parsed from the log line: unknown to the pack, known by what it is called. */
export interface LineValue {
  /** The stage that produced it, e.g. `LOKI_STAGE_CONFIGS[0].json`. */
  where: string;
  /** Names that describe it: the extracted name, the field names of its JSON path, logfmt key or regex group, and those of the values it was computed from. */
  names: string[];
}

/** A label whose value comes from the log line. */
export interface LineLabel {
  label: string;
  /** The stage that set it, e.g. `LOKI_STAGE_CONFIGS[1].labels`. */
  where: string;
  value: LineValue;
}

export interface StageOutcome {
  labels: Labels;
  /** The labels of `labels` whose value comes from the line. */
  fromLine: LineLabel[];
}

type Step =
  | { kind: "labels"; where: string; stage: Stage; name: string; writes: readonly string[] }
  | { kind: "extract"; where: string; stage: Stage; source?: string; extracts: ReadonlyArray<[string, string[]]> }
  | { kind: "template"; where: string; stage: Stage; source: string }
  | { kind: "match"; where: string; steps?: readonly Step[]; matchers: ReadonlyArray<{ name: string; holds: (labels: Labels) => boolean }>; lineFilters: boolean };

const MARK = "\u0000line-value:";
const QUIET: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const CONTEXT: StageContext = { log: QUIET, now: () => 0, random: () => 0 };

interface State {
  entry: StageEntry;
  fromLine: LineLabel[];
  /** Labels a `labels` stage wrote on this path: no longer decided. */
  written: Set<string>;
}

export class StagePlan {
  private readonly steps: readonly Step[];
  private readonly values = new Map<string, LineValue>();

  /** `json` is the parsed LOKI_STAGE_CONFIGS, already accepted by the handler's validator. */
  constructor(json: unknown, where = "LOKI_STAGE_CONFIGS") {
    this.steps = compileSteps(json, where);
  }

  /**
   * The labels an entry with `labels` can end up with, one per path; null where the path drops
   * it or no entry can take it. `decided` (see the header): which of `labels` are the same for
   * every entry; without it every match stage takes both paths.
   */
  outcomes(labels: Readonly<Labels>, decided?: (name: string) => boolean): (StageOutcome | null)[] {
    const line = this.symbol({ where: "the log line", names: ["line"] });
    const start: State = { entry: { labels: { ...labels }, extracted: { ...labels }, line, sec: 0, nsec: 0, metadata: {} }, fromLine: [], written: new Set() };
    return this.walk(this.steps, [start], decided).map((state) => (state === null ? null : finish(state)));
  }

  private walk(steps: readonly Step[], states: (State | null)[], decided: ((name: string) => boolean) | undefined): (State | null)[] {
    let current = states;
    for (const step of steps) {
      if (step.kind === "match") {
        const branch = current.length * 2 <= MAX_PATHS;
        const next: (State | null)[] = [];
        for (const state of current) {
          const verdict = state === null || decided === undefined ? "maybe" : selects(step, state, decided);
          const ran = state === null || step.steps === undefined || verdict === "never" ? null : this.walk(step.steps, [clone(state)], decided)[0];
          const around = verdict === "always" ? null : state;
          if (branch) next.push(around, ran);
          else next.push(verdict === "never" || (verdict === "maybe" && step.steps === undefined) ? around : ran);
        }
        current = next;
        continue;
      }
      for (const state of current) if (state !== null) this.run(step, state);
    }
    return current;
  }

  private run(step: Exclude<Step, { kind: "match" }>, state: State): void {
    const entry = state.entry;
    switch (step.kind) {
      case "labels": {
        const before = { ...entry.labels };
        step.stage.process(entry, CONTEXT);
        for (const name of step.writes) state.written.add(name);
        for (const [name, value] of Object.entries(entry.labels)) {
          const origin = this.values.get(value);
          if (before[name] !== value && origin) state.fromLine.push({ label: name, where: step.where, value: origin });
        }
        return;
      }
      case "extract": {
        const input = step.source === undefined ? entry.line : entry.extracted[step.source];
        if (!this.isSymbolic(input)) {
          step.stage.process(entry, CONTEXT);
          return;
        }
        for (const [name, names] of step.extracts) entry.extracted[name] = this.symbol({ where: step.where, names });
        return;
      }
      case "template":
        this.runTemplate(step, state);
        return;
    }
  }

  /** Runs the template as compiled; its output becomes a symbol when it follows a value from the line. */
  private runTemplate(step: Extract<Step, { kind: "template" }>, state: State): void {
    const output = (entry: StageEntry) => {
      const copy = { ...entry, extracted: { ...entry.extracted } };
      step.stage.process(copy, CONTEXT);
      return copy.extracted;
    };
    const entry = state.entry;
    const known = output(entry);
    const inputs: Array<[string | undefined, unknown]> = [[undefined, entry.line], ...Object.entries(entry.extracted)];
    const followed: LineValue[] = [];
    for (const [name, value] of inputs) {
      if (!this.isSymbolic(value)) continue;
      const changed = { ...entry, extracted: { ...entry.extracted } };
      const other = `${value as string}~changed`;
      if (name === undefined) changed.line = other;
      else changed.extracted[name] = other;
      if (output(changed)[step.source] !== known[step.source]) followed.push(this.values.get(value as string) ?? { where: step.where, names: [] });
    }
    if (followed.length === 0) {
      entry.extracted = known;
      return;
    }
    entry.extracted[step.source] = this.symbol({ where: step.where, names: [step.source, ...followed.flatMap((v) => v.names)] });
  }

  private symbol(value: LineValue): string {
    const token = `${MARK}${this.values.size}\u0000`;
    this.values.set(token, value);
    return token;
  }

  private isSymbolic(value: unknown): boolean {
    return typeof value === "string" && value.includes(MARK);
  }
}

function clone(state: State): State {
  const e = state.entry;
  return { entry: { ...e, labels: { ...e.labels }, extracted: { ...e.extracted }, metadata: { ...e.metadata } }, fromLine: [...state.fromLine], written: new Set(state.written) };
}

/**
 * Whether a match stage's selector holds for every entry on this path ("always"), for none
 * ("never"), or cannot be told ("maybe"): only its label matchers on decided labels count; a
 * line filter, or a matcher on an undecided label, can go either way.
 */
function selects(step: Extract<Step, { kind: "match" }>, state: State, decided: (name: string) => boolean): "always" | "never" | "maybe" {
  let settled = !step.lineFilters;
  for (const matcher of step.matchers) {
    if (!decided(matcher.name) || state.written.has(matcher.name)) settled = false;
    else if (!matcher.holds(state.entry.labels)) return "never";
  }
  return settled ? "always" : "maybe";
}

/** As the runner finishes an entry: empty label values are no labels, and `__tenant_id__` picks the tenant, not a label. */
function finish(state: State): StageOutcome {
  const labels: Labels = {};
  for (const [name, value] of Object.entries(state.entry.labels)) if (value !== "" && name !== TENANT_LABEL) labels[name] = value;
  // The last stage to set a label wins; labels removed since are not from the line any more.
  const fromLine = new Map<string, LineLabel>();
  for (const l of state.fromLine) fromLine.set(l.label, l);
  return { labels, fromLine: [...fromLine.values()].filter((l) => Object.hasOwn(labels, l.label)) };
}

function compileSteps(json: unknown, where: string): Step[] {
  if (!Array.isArray(json)) return [];
  return json.flatMap((item, index) => {
    const name = Object.keys(item as object)[0];
    const options = (item as Record<string, unknown>)[name];
    return compileStep(name, options, `${where}[${index}].${name}`);
  });
}

function compileStep(name: string, options: unknown, where: string): Step[] {
  const effect = Object.hasOwn(STAGE_EFFECTS, name) ? STAGE_EFFECTS[name] : "none";
  if (effect === "none") return [];
  if (effect === "match") {
    const nested = (options as Record<string, unknown>).stages;
    const drop = (options as Record<string, unknown>).action === "drop";
    // The selector passed the handler's validator: it parses and compiles.
    const selector = parseSelector(String((options as Record<string, unknown>).selector));
    const matchers = selector.matchers.map((m) => {
      const test = compileSelector({ matchers: [m], filters: [] });
      return { name: m.name, holds: (labels: Labels) => test(labels, "") };
    });
    return [{ kind: "match", where, matchers, lineFilters: selector.filters.length > 0, ...(drop ? {} : { steps: compileSteps(nested, `${where}.stages`) }) }];
  }
  // The handler's own stage, compiled as the function compiles it (the configuration passed its validator).
  const factory = Object.hasOwn(STAGES, name) ? STAGES[name] : undefined;
  if (factory === undefined) return [];
  const stage = factory(options, where, () => []);
  const opts = (options ?? {}) as Record<string, unknown>;
  const source = typeof opts.source === "string" && opts.source !== "" ? opts.source : undefined;
  switch (effect) {
    case "labels":
      // The `labels` stage writes values that may come from the line; the others write constants or only remove.
      return [{ kind: "labels", where, stage, name, writes: name === "labels" ? Object.keys(opts) : [] }];
    case "template":
      return [{ kind: "template", where, stage, source: opts.source as string }];
    case "extract":
      return [{ kind: "extract", where, stage, ...(source ? { source } : {}), extracts: extractedNames(name, opts) }];
  }
}

/** The names a parsing stage can extract, each with the names that describe its value. */
function extractedNames(stage: string, opts: Record<string, unknown>): Array<[string, string[]]> {
  const map = (value: unknown): Array<[string, string]> =>
    Object.entries((value ?? {}) as Record<string, unknown>).map(([name, from]) => [name, typeof from === "string" && from !== "" ? from : name]);
  switch (stage) {
    case "json":
      return map(opts.expressions).map(([name, expression]) => [name, [name, ...jmesPathFields(expression)]]);
    case "logfmt":
      return map(opts.mapping).map(([name, key]) => [name, [name, key]]);
    default:
      // regex and replace: their named groups.
      return Regex.compile(String(opts.expression)).names.map((name) => [name, [name]]);
  }
}

/**
 * The field names a JMESPath expression reads its value from: the last field of each path
 * (`log.level` -> level, `items[0].id` -> id, `to_string(requestId)` -> requestId), without
 * function names and without the fields a path goes through.
 */
export function jmesPathFields(expression: string): string[] {
  const out: string[] = [];
  const token = /"((?:[^"\\]|\\.)*)"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|([A-Za-z_][A-Za-z0-9_]*)/g;
  for (let m = token.exec(expression); m !== null; m = token.exec(expression)) {
    const name = m[1] ?? m[2];
    if (name === undefined) continue; // a raw string or JSON literal
    const after = expression.slice(token.lastIndex).trimStart()[0];
    if (after === "(" || after === "." || after === "[") continue;
    out.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : name);
  }
  return out;
}
