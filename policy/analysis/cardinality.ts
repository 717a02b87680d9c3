/**
 * Where high-cardinality values end up, found by running the handler's label pipeline (extra
 * labels, drop labels, the relabel engine, then the stages of LOKI_STAGE_CONFIGS along each of
 * their paths, see stage-labels.ts) rather than by reading the rules: each alternative
 * value of a high-cardinality base label is run through it, and the final labels that change
 * with the value are the ones that would multiply Loki's streams. A rule that extracts only a
 * stable part of the value (the function version of a Lambda stream, say) leaves the final
 * labels equal across alternatives and is not reported.
 */
import type { ShipperConfig } from "../../handler/config";
import { createLabelPipeline } from "../../handler/labels/pipeline";
import { expandTemplate, relabel, RelabelRule } from "../../handler/labels/relabel";
import { TENANT_LABEL } from "../../handler/labels/names";
import type { Labels } from "../../handler/types";
import { ALL_SOURCE_KINDS, LabelSetTemplate, labelSetTemplates, telemetryTemplate } from "./source-labels";
import type { StagePlan } from "./stage-labels";

/** Base labels -> the labels Loki receives, or null when the entries are dropped. */
export type LabelPipeline = ((base: Labels) => Readonly<Labels> | null) & {
  /** Which labels' value (or absence) after the pipeline is the same for every entry of `template` (see decidedLabels). */
  decided?: (template: LabelSetTemplate) => Decided;
};

/** Whether a label's value (or its absence) is the same for every entry: a `match` selector may be decided on it. */
export type Decided = (name: string) => boolean;

type LabelConfig = Pick<ShipperConfig, "extraLabels" | "dropLabels" | "relabelRules">;

export function pipelineFor(config: LabelConfig): LabelPipeline {
  const pipeline = createLabelPipeline({ ...config, cacheSize: 0 });
  const run: LabelPipeline = (base) => {
    const final = pipeline(base)?.labels;
    if (!final) return null;
    // The tenant label routes the push and is never part of the stream's labels.
    if (!Object.hasOwn(final, TENANT_LABEL)) return final;
    const { [TENANT_LABEL]: _tenant, ...labels } = final;
    return labels;
  };
  run.decided = (template) => decidedLabels(template, config);
  return run;
}

/** Relabel actions that write the label `target_label` names. */
const WRITES_TARGET = new Set(["replace", "lowercase", "uppercase", "hashmod"]);
const NOTHING_DECIDED: Decided = () => false;

/**
 * The labels whose value, or absence, after EXTRA_LABELS, DROP_LABELS and RELABEL_CONFIGS is
 * the same for every entry of `template` and known to the pack: a sound under-approximation,
 * followed rule by rule. Decided at the start: the template's `known` base labels, every
 * EXTRA_LABELS label, every DROP_LABELS name, and the absence of any name nothing may set.
 * Undecided: placeholder and varying base labels. A rule that writes `target_label` makes it
 * decided only when all its source labels are; a `labelmap` copies the decidedness of each
 * name it maps; `labeldrop` and `labelkeep` choose by name, so they change nothing here. A
 * templated `target_label`, a `labelmap` over names the pack cannot list, or a keep/drop rule
 * that drops the placeholder set, leave nothing decided.
 */
export function decidedLabels(template: LabelSetTemplate, config: LabelConfig): Decided {
  const undecided = new Set<string>();
  for (const name of Object.keys(template.base)) if (!template.known?.includes(name)) undecided.add(name);
  for (const varying of template.varying) undecided.add(varying.name);
  const prefix = template.placeholderNamesPrefix;
  const isDecided = (name: string) => !undecided.has(name) && (prefix === undefined || !name.startsWith(prefix)) && name !== TENANT_LABEL;
  // The label set as the pipeline builds it, rule by rule (see createLabelPipeline).
  let labels: Labels = {};
  for (const [name, value] of [...Object.entries(template.base), ...Object.entries(config.extraLabels)]) if (value !== "") labels[name] = value;
  for (const name of Object.keys(config.extraLabels)) undecided.delete(name);
  for (const name of config.dropLabels) {
    delete labels[name];
    undecided.delete(name);
  }
  for (const rule of config.relabelRules) {
    if (WRITES_TARGET.has(rule.action)) {
      if (rule.targetLabel.includes("$")) return NOTHING_DECIDED;
      if (rule.sourceLabels.every(isDecided)) undecided.delete(rule.targetLabel);
      else undecided.add(rule.targetLabel);
    } else if (rule.action === "labelmap") {
      if (prefix !== undefined) return NOTHING_DECIDED;
      for (const name of new Set([...Object.keys(labels), ...undecided])) {
        const match = rule.regex.fullMatch(name);
        if (match === null) continue;
        const target = expandTemplate(rule.replacementTemplate, match);
        if (isDecided(name)) undecided.delete(target);
        else undecided.add(target);
      }
    }
    const next = relabel(labels, [rule]);
    // Dropped here, kept for some real entries (or for none: then no path counts anyway).
    if (next === null) return NOTHING_DECIDED;
    labels = next;
  }
  return isDecided;
}

/**
 * The labels Loki receives for entries with `base`: the label pipeline's, then each path of the
 * stages (null where the entries are dropped, or where no entry can go: see StagePlan). Without
 * stages, one path. The number and order of paths depend on the configuration only, so results
 * for different base labels line up.
 */
export function finalLabelSets(base: Labels, pipeline: LabelPipeline, stages?: StagePlan, decided?: Decided): (Readonly<Labels> | null)[] {
  const final = pipeline(base);
  if (stages === undefined) return [final];
  return stages.outcomes(final ?? {}, decided).map((outcome) => (final === null || outcome === null ? null : outcome.labels));
}

/** A high-cardinality base label whose value reaches the final labels. */
export interface Leak {
  source: string;
  /** The high-cardinality base label. */
  label: string;
  why: string;
  metadataField?: string;
  /** The shape of values that showed it. */
  shape: string;
  /** Final labels whose presence or value changes with it (names built from it excluded). */
  into: string[];
  /** Whether label names themselves are built from its value (a templated target_label). */
  namesFromValue: boolean;
  /** Whether the label itself reaches Loki unchanged. */
  passesThrough: boolean;
}

/** Leaks of every varying label of a template, one per label (families and stage paths merged). */
export function findLeaks(template: LabelSetTemplate, pipeline: LabelPipeline, stages?: StagePlan): Leak[] {
  const leaks: Leak[] = [];
  for (const varying of template.varying) {
    let leak: Leak | undefined;
    const pathRuns = varying.families.flatMap((family) => {
      const sets = family.values.map((value) => ({ value, finals: finalLabelSets({ ...template.base, [varying.name]: value }, pipeline, stages) }));
      return (sets[0]?.finals ?? []).map((_, path) => ({
        family,
        runs: sets.map((s) => ({ value: s.value, final: s.finals[path] })).filter((run): run is { value: string; final: Readonly<Labels> } => run.final !== null),
      }));
    });
    for (const { family, runs } of pathRuns) {
      const changed = changedLabels(runs.map((r) => r.final));
      if (changed.into.length === 0 && !changed.namesFromValue) continue;
      leak ??= { source: template.source, label: varying.name, why: varying.why, metadataField: varying.metadataField, shape: family.shape, into: [], namesFromValue: false, passesThrough: true };
      leak.into = [...new Set([...leak.into, ...changed.into])];
      leak.namesFromValue ||= changed.namesFromValue;
      leak.passesThrough &&= runs.every((r) => r.final[varying.name] === r.value);
    }
    if (leak) {
      leak.passesThrough &&= leak.into.includes(varying.name);
      leaks.push(leak);
    }
  }
  return leaks;
}

/**
 * The labels that differ between label sets computed from different values. When several names
 * each appear in a single set, every value got a label name of its own: the names are built
 * from the value (and listing them would only show sentinel ids).
 */
function changedLabels(sets: readonly Readonly<Labels>[]): { into: string[]; namesFromValue: boolean } {
  if (sets.length < 2) return { into: [], namesFromValue: false };
  const names = new Set(sets.flatMap((s) => Object.keys(s)));
  const into: string[] = [];
  const singletons: string[] = [];
  for (const name of names) {
    const holders = sets.filter((s) => Object.hasOwn(s, name));
    if (holders.length === 1) singletons.push(name);
    else if (holders.length < sets.length || new Set(holders.map((s) => s[name])).size > 1) into.push(name);
  }
  const namesFromValue = singletons.length >= 2;
  if (!namesFromValue) into.push(...singletons);
  return { into: into.sort(), namesFromValue };
}

/** A made-up label a future source might add: a blanket rule maps it too. */
const FUTURE_AWS_LABEL = "__aws_policy_probe_future_label";

/**
 * Indexes of `labelmap` rules that copy every `__aws_*` label (e.g. regex `__aws_(.*)`): they
 * turn on every internal label of every source, today's and tomorrow's, including the log
 * stream when KEEP_STREAM is set, and double the label count. Found by running each rule alone
 * on every `__aws_*` label the sources produce plus a made-up one.
 */
export function blanketLabelMaps(rules: readonly RelabelRule[]): number[] {
  const probe = awsLabelProbe();
  const names = Object.keys(probe);
  return rules.flatMap((rule, index) => {
    if (rule.action !== "labelmap") return [];
    const out = relabel(probe, [rule]);
    if (out === null) return [];
    const copiedValues = new Set(Object.keys(out).filter((n) => !Object.hasOwn(probe, n)).map((n) => out[n]));
    return names.every((n) => copiedValues.has(probe[n])) ? [index] : [];
  });
}

function awsLabelProbe(): Labels {
  const names = new Set<string>([FUTURE_AWS_LABEL]);
  const opts = { keepStream: true, tagLabels: [{ kind: "key" as const, key: "team", label: "team" }], tagLabelsPrefix: "__aws_tag_" };
  for (const source of ALL_SOURCE_KINDS) {
    for (const template of labelSetTemplates(source, opts)) {
      for (const name of Object.keys(template.base)) if (name.startsWith("__aws_")) names.add(name);
    }
  }
  for (const name of Object.keys(telemetryTemplate({}).base)) names.add(name);
  // Distinct values, so each copy can be traced to its origin.
  return Object.fromEntries([...names].sort().map((name, i) => [name, `probe-value-${i}`]));
}

/**
 * The most label names an entry of this kind can end up with (over the base and every
 * alternative value), or null when every entry is dropped.
 */
export function finalLabelNames(template: LabelSetTemplate, pipeline: LabelPipeline, stages?: StagePlan): string[] | null {
  // Match stages whose selector the known labels decide take only the paths entries can take.
  const decided = stages === undefined ? undefined : pipeline.decided?.(template);
  const candidates: Labels[] = [{ ...template.base }];
  for (const varying of template.varying) {
    for (const family of varying.families) for (const value of family.values) candidates.push({ ...template.base, [varying.name]: value });
  }
  let largest: string[] | null = null;
  for (const base of candidates) {
    for (const final of finalLabelSets(base, pipeline, stages, decided)) {
      if (final !== null && (largest === null || Object.keys(final).length > largest.length)) largest = Object.keys(final).sort();
    }
  }
  return largest;
}
