/**
 * Prometheus relabeling (model/relabel/relabel.go) for the RELABEL_CONFIGS environment variable:
 * the same fields, defaults, validation and semantics, so that rules written for Prometheus,
 * Promtail or the Go lambda-promtail behave the same here.
 */
import { createHash } from "node:crypto";
import type { Labels } from "../types";
import { describeJson, suggest } from "../describe";
import { expandTemplate, parseTemplate, Regex, RegexSyntaxError, type TemplatePart } from "../regex";

/** Go's Regexp.Expand lives with the engine (handler/regex.ts); re-exported for the rules' users. */
export { expandTemplate, parseTemplate, type TemplatePart };
import { isValidLabelName, labelValue, newLabels, sortedLabelNames } from "./names";

export type RelabelAction =
  | "replace"
  | "keep"
  | "drop"
  | "keepequal"
  | "dropequal"
  | "hashmod"
  | "labelmap"
  | "labeldrop"
  | "labelkeep"
  | "lowercase"
  | "uppercase";

const ACTIONS: readonly RelabelAction[] = [
  "replace",
  "keep",
  "drop",
  "keepequal",
  "dropequal",
  "hashmod",
  "labelmap",
  "labeldrop",
  "labelkeep",
  "lowercase",
  "uppercase",
];

/** One piece of a `$1` / `${name}` template, parsed once at configuration time. */

/** A compiled relabel rule. Build it with `compileRelabelConfigs`. */
export interface RelabelRule {
  readonly action: RelabelAction;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** The configured regex, RE2 syntax, before anchoring. */
  readonly regexSource: string;
  /** The compiled regex; rules match it against the whole value (Prometheus anchors it as `^(?:…)$`). */
  readonly regex: Regex;
  readonly targetLabel: string;
  readonly replacement: string;
  /** Zero unless the action is hashmod. */
  readonly modulus: bigint;
  readonly targetTemplate: readonly TemplatePart[];
  readonly replacementTemplate: readonly TemplatePart[];
}

/** An invalid RELABEL_CONFIGS value; the message names the rule index and the field. */
export class RelabelConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RelabelConfigError";
  }
}

const DEFAULT_SEPARATOR = ";";
const DEFAULT_REGEX = "(.*)";
const DEFAULT_REPLACEMENT = "$1";
const MAX_UINT64 = (1n << 64n) - 1n;

const KNOWN_FIELDS = ["source_labels", "separator", "target_label", "regex", "modulus", "replacement", "action"] as const;
type FieldName = (typeof KNOWN_FIELDS)[number];

/**
 * Prometheus's check for a target label that contains `$` references: label-name characters
 * and `$name` / `${name}` only. Rewritten without nested quantifiers, so that JavaScript's
 * backtracking stays linear on long invalid input (`$\w+` followed by `\w*` is `$\w` then `\w*`).
 */
const LABEL_NAME_TEMPLATE = /^(?:[A-Za-z_]|\$\w|\$\{\w+\})(?:\w|\$\w|\$\{\w+\})*$/;

// ---------------------------------------------------------------------------------------------
// Configuration

/** Validates and compiles the parsed JSON of RELABEL_CONFIGS (an array of Prometheus rules). */
export function compileRelabelConfigs(raw: unknown): RelabelRule[] {
  if (!Array.isArray(raw)) {
    throw new RelabelConfigError(`relabel configs must be a JSON array of rules, got ${describeJson(raw)}`);
  }
  return raw.map((rule, index) => compileRule(rule, index));
}

/** Field values after type checks and defaults. */
interface RawRule {
  action: RelabelAction;
  sourceLabels: string[];
  separator: string;
  targetLabel: string;
  regex: string;
  modulus: bigint;
  replacement: string;
}

function compileRule(raw: unknown, index: number): RelabelRule {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new RelabelConfigError(`rule ${index}: must be an object with Prometheus relabel fields, got ${describeJson(raw)}`);
  }
  const fields = raw as Record<string, unknown>;
  const action = readAction(fields.action, index);
  const context = `rule ${index} (action "${action}")`;
  const fail = (message: string): never => {
    throw new RelabelConfigError(`${context}: ${message}`);
  };
  rejectUnknownFields(fields, fail);
  const rule = readFields(fields, action, fail);
  validateRule(rule, fail);
  return {
    action,
    sourceLabels: rule.sourceLabels,
    separator: rule.separator,
    regexSource: rule.regex,
    regex: compileRuleRegex(rule.regex, context),
    targetLabel: rule.targetLabel,
    replacement: rule.replacement,
    modulus: rule.modulus,
    targetTemplate: parseTemplate(rule.targetLabel),
    replacementTemplate: parseTemplate(rule.replacement),
  };
}

function readAction(value: unknown, index: number): RelabelAction {
  if (value === undefined || value === null) return "replace";
  // Prometheus lowercases the action, so `Replace` and `LabelMap` are accepted.
  const action = typeof value === "string" ? value.toLowerCase() : undefined;
  if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
    throw new RelabelConfigError(`rule ${index}: unknown action ${JSON.stringify(value)}; expected one of ${ACTIONS.join(", ")}`);
  }
  return action as RelabelAction;
}

function rejectUnknownFields(fields: Record<string, unknown>, fail: (message: string) => never): void {
  for (const key of Object.keys(fields)) {
    if ((KNOWN_FIELDS as readonly string[]).includes(key)) continue;
    const suggestion = suggestField(key);
    fail(
      `unknown field ${JSON.stringify(key)}` +
        (suggestion ? ` (did you mean "${suggestion}"?)` : `; known fields are ${KNOWN_FIELDS.join(", ")}`),
    );
  }
}

/** `targetLabel`, `target-label`, `TargetLabel` and small typos point to `target_label`. */
function suggestField(key: string): FieldName | undefined {
  return suggest(key, KNOWN_FIELDS) as FieldName | undefined;
}

/** Type-checks each field and applies Prometheus defaults. JSON null counts as not set. */
function readFields(fields: Record<string, unknown>, action: RelabelAction, fail: (message: string) => never): RawRule {
  const readString = (name: FieldName, fallback: string): string => {
    const value = fields[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string") return fail(`${name} must be a string, got ${describeJson(value)}`);
    return value;
  };
  return {
    action,
    sourceLabels: readSourceLabels(fields.source_labels, fail),
    separator: readString("separator", DEFAULT_SEPARATOR),
    targetLabel: readString("target_label", ""),
    regex: readString("regex", DEFAULT_REGEX),
    modulus: readModulus(fields.modulus, fail),
    replacement: readString("replacement", DEFAULT_REPLACEMENT),
  };
}

function readSourceLabels(value: unknown, fail: (message: string) => never): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(`source_labels must be an array of label names, got ${describeJson(value)}`);
  return value.map((name, i) => {
    if (typeof name !== "string" || !isValidLabelName(name)) {
      return fail(`source_labels[${i}] ${describeJson(name)} is not a valid label name`);
    }
    return name;
  });
}

/** A non-negative integer, as a JSON number or (for values beyond 2^53) a decimal string. */
function readModulus(value: unknown, fail: (message: string) => never): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && /^[0-9]+$/.test(value) && BigInt(value) <= MAX_UINT64) return BigInt(value);
  return fail(`modulus must be a positive integer, got ${describeJson(value)}`);
}

/** Prometheus's `Config.Validate`, rule by rule. */
function validateRule(rule: RawRule, fail: (message: string) => never): void {
  const { action, targetLabel } = rule;
  if (action === "hashmod" && rule.modulus === 0n) fail("modulus must be a positive integer");
  const needsTarget = ["replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal"].includes(action);
  if (needsTarget && targetLabel === "") fail("target_label is required");
  if (action === "replace") validateReplaceTarget(targetLabel, fail);
  if (["lowercase", "uppercase", "keepequal", "dropequal", "hashmod"].includes(action) && !isValidLabelName(targetLabel)) {
    fail(`target_label ${JSON.stringify(targetLabel)} is not a valid label name`);
  }
  if (["lowercase", "uppercase"].includes(action) && rule.replacement !== DEFAULT_REPLACEMENT) {
    fail(`replacement must not be set for ${action}`);
  }
  if (action === "labelmap" && !LABEL_NAME_TEMPLATE.test(rule.replacement)) {
    fail(`replacement ${JSON.stringify(rule.replacement)} is not a valid label name or $1/\${name} template`);
  }
  if (action === "keepequal" || action === "dropequal") rejectFieldsBesides(rule, ["source_labels", "target_label"], fail);
  if (action === "labeldrop" || action === "labelkeep") rejectFieldsBesides(rule, ["regex"], fail);
}

function validateReplaceTarget(targetLabel: string, fail: (message: string) => never): void {
  const valid = targetLabel.includes("$") ? LABEL_NAME_TEMPLATE.test(targetLabel) : isValidLabelName(targetLabel);
  if (!valid) fail(`target_label ${JSON.stringify(targetLabel)} is not a valid label name or $1/\${name} template`);
}

/** Fields count as set when they differ from their default, as Prometheus compares them. */
function rejectFieldsBesides(rule: RawRule, allowed: readonly FieldName[], fail: (message: string) => never): void {
  const setFields: FieldName[] = [];
  if (rule.sourceLabels.length > 0) setFields.push("source_labels");
  if (rule.separator !== DEFAULT_SEPARATOR) setFields.push("separator");
  if (rule.targetLabel !== "") setFields.push("target_label");
  if (rule.regex !== DEFAULT_REGEX) setFields.push("regex");
  if (rule.modulus !== 0n) setFields.push("modulus");
  if (rule.replacement !== DEFAULT_REPLACEMENT) setFields.push("replacement");
  const extra = setFields.filter((field) => !allowed.includes(field));
  if (extra.length > 0) {
    fail(`only ${allowed.join(" and ")} may be set for ${rule.action}, but ${extra.join(", ")} ${extra.length > 1 ? "are" : "is"} set`);
  }
}

function compileRuleRegex(regex: string, context: string): Regex {
  try {
    return Regex.compile(regex);
  } catch (err) {
    if (err instanceof RegexSyntaxError) throw new RelabelConfigError(`${context}: ${err.message}`, { cause: err });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Applying rules

/**
 * Applies the rules in order. Never mutates `labels`; returns a new label set, the input itself
 * when no rule changed anything, or null when a keep/drop/keepequal/dropequal rule drops it.
 */
export function relabel(labels: Labels, rules: readonly RelabelRule[]): Labels | null {
  const set = new CopyOnWriteLabels(labels);
  for (const rule of rules) {
    if (!applyRule(rule, set)) return null;
  }
  return set.labels;
}

/** Copies the input on the first change only: most rules leave most label sets alone. */
class CopyOnWriteLabels {
  private owned = false;

  constructor(public labels: Labels) {}

  get(name: string): string {
    return labelValue(this.labels, name);
  }

  /** Like Prometheus's labels.Builder, setting "" deletes the label. */
  set(name: string, value: string): void {
    if (value === "") {
      this.delete(name);
      return;
    }
    if (Object.hasOwn(this.labels, name) && this.labels[name] === value) return;
    this.own();
    this.labels[name] = value;
  }

  delete(name: string): void {
    if (!Object.hasOwn(this.labels, name)) return;
    this.own();
    delete this.labels[name];
  }

  private own(): void {
    if (this.owned) return;
    this.labels = newLabels(this.labels);
    this.owned = true;
  }
}

/** Returns false when the rule drops the label set. */
function applyRule(rule: RelabelRule, set: CopyOnWriteLabels): boolean {
  switch (rule.action) {
    case "drop":
      return !rule.regex.matchesFully(sourceValue(rule, set));
    case "keep":
      return rule.regex.matchesFully(sourceValue(rule, set));
    case "dropequal":
      return set.get(rule.targetLabel) !== sourceValue(rule, set);
    case "keepequal":
      return set.get(rule.targetLabel) === sourceValue(rule, set);
    case "replace":
      applyReplace(rule, set);
      return true;
    case "lowercase":
      set.set(rule.targetLabel, goToLower(sourceValue(rule, set)));
      return true;
    case "uppercase":
      set.set(rule.targetLabel, goToUpper(sourceValue(rule, set)));
      return true;
    case "hashmod":
      set.set(rule.targetLabel, hashMod(sourceValue(rule, set), rule.modulus));
      return true;
    case "labelmap":
      applyLabelMap(rule, set);
      return true;
    case "labeldrop":
    case "labelkeep":
      applyLabelFilter(rule, set, rule.action === "labelkeep");
      return true;
  }
}

/** Values of the source labels joined by the separator; a missing label counts as "". */
function sourceValue(rule: RelabelRule, set: CopyOnWriteLabels): string {
  const names = rule.sourceLabels;
  if (names.length === 1) return set.get(names[0]);
  let value = "";
  for (let i = 0; i < names.length; i++) {
    if (i > 0) value += rule.separator;
    value += set.get(names[i]);
  }
  return value;
}

function applyReplace(rule: RelabelRule, set: CopyOnWriteLabels): void {
  const match = rule.regex.fullMatch(sourceValue(rule, set));
  if (match === null) return;
  const target = expandTemplate(rule.targetTemplate, match);
  if (!isValidLabelName(target)) return;
  set.set(target, expandTemplate(rule.replacementTemplate, match));
}

/**
 * Copies each label whose name matches to the expanded replacement name. Works on a snapshot in
 * name order, as Prometheus iterates its sorted labels, so the result does not depend on the
 * order of the input object. Unlike Prometheus, an expanded name that is not a valid label name
 * is skipped (Loki would reject the whole push otherwise).
 */
function applyLabelMap(rule: RelabelRule, set: CopyOnWriteLabels): void {
  // Read every mapping before writing any: a write may overwrite a label still to be read.
  const mapped: Array<[string, string]> = [];
  for (const name of sortedLabelNames(set.labels)) {
    const match = rule.regex.fullMatch(name);
    if (match === null) continue;
    const target = expandTemplate(rule.replacementTemplate, match);
    if (isValidLabelName(target)) mapped.push([target, set.labels[name]]);
  }
  for (const [target, value] of mapped) set.set(target, value);
}

function applyLabelFilter(rule: RelabelRule, set: CopyOnWriteLabels, keepMatching: boolean): void {
  for (const name of Object.keys(set.labels)) {
    if (rule.regex.matchesFully(name) !== keepMatching) set.delete(name);
  }
}

/**
 * md5 of the value; the last 8 bytes of the digest as a big-endian unsigned 64-bit integer,
 * modulo the modulus (Prometheus: `binary.BigEndian.Uint64(sum[8:]) % modulus`).
 */
export function hashMod(value: string, modulus: bigint): string {
  const digest = createHash("md5").update(value, "utf8").digest();
  return (digest.readBigUInt64BE(8) % modulus).toString();
}

// ---------------------------------------------------------------------------------------------
// Go's strings.ToLower / ToUpper: per code point, simple (one-to-one) case mappings only

/** Simple mappings that differ from the first code point of JavaScript's full mapping. */
const SIMPLE_LOWER_EXCEPTIONS: ReadonlyMap<number, number> = new Map([[0x130, 0x69]]);
const SIMPLE_UPPER_EXCEPTIONS: ReadonlyMap<number, number> = new Map([
  ...greekIotaSubscripts(0x1f80),
  ...greekIotaSubscripts(0x1f90),
  ...greekIotaSubscripts(0x1fa0),
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
]);

/** U+1F80..U+1F87 uppercase to U+1F88..U+1F8F (and the same for the 1F9x and 1FAx rows). */
function greekIotaSubscripts(start: number): Array<[number, number]> {
  return Array.from({ length: 8 }, (_, k): [number, number] => [start + k, start + 8 + k]);
}

// eslint-disable-next-line no-control-regex -- the range starts at NUL on purpose
const ASCII_ONLY = /^[\x00-\x7f]*$/;

export function goToLower(value: string): string {
  if (ASCII_ONLY.test(value)) return value.toLowerCase();
  return mapCodePoints(value, (s) => s.toLowerCase(), SIMPLE_LOWER_EXCEPTIONS);
}

export function goToUpper(value: string): string {
  if (ASCII_ONLY.test(value)) return value.toUpperCase();
  return mapCodePoints(value, (s) => s.toUpperCase(), SIMPLE_UPPER_EXCEPTIONS);
}

/**
 * JavaScript applies full, context-sensitive mappings (ß → SS, final Σ → ς); Go maps each code
 * point on its own and keeps it when the only mapping would change the length.
 */
function mapCodePoints(value: string, map: (s: string) => string, exceptions: ReadonlyMap<number, number>): string {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0) as number;
    const exception = exceptions.get(cp);
    if (exception !== undefined) {
      out += String.fromCodePoint(exception);
      continue;
    }
    const mapped = map(ch);
    const isSingleCodePoint = mapped.length === 1 || (mapped.length === 2 && (mapped.codePointAt(0) as number) > 0xffff);
    out += isSingleCodePoint ? mapped : ch;
  }
  return out;
}
