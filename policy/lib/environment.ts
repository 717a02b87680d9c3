/**
 * Which functions the pack guards and where their settings live. Two kinds of function run the
 * shipper's pipeline with the shipper's settings:
 *  - the shipper itself (lambda-promtail), whose environment has WRITE_ADDRESS, BATCH_SIZE, …;
 *  - any function carrying the telemetry extension layer, whose environment has the same
 *    settings prefixed `LOKI_` (LOKI_WRITE_ADDRESS, …) next to the function's own variables.
 * A policy reads a setting by its shipper name (`KEEP_STREAM`) through `knownSetting` and
 * friends, which look it up under the kind's prefix, and parses the settings with that kind's
 * own validator (`parseShipperConfig`, or the extension's `parseExtensionConfig`), so that the
 * pack judges exactly the configuration the code would run with, and reports the same messages.
 */
import { ConfigError, parseBoolean, parseShipperConfig, prefixedName, ShipperConfig } from "../../handler/config";
import { parseExtensionConfig, PREFIX as EXTENSION_PREFIX } from "../../extension/config";
import { isUnknown, Maybe, readKnown, readPath, UNKNOWN, unknownAtPreview } from "./unknowns";

/** Where a function's variables sit in `aws:lambda/function:Function` properties. */
export const ENV_PATH = ["environment", "variables"] as const;

/** The setting that makes a function run the pipeline: neither kind can start without it. */
export const SHIPPER_MARKER = "WRITE_ADDRESS";

/** A kind of function running the shipper's pipeline, and how to read its settings. */
export interface ShipperKind {
  readonly id: "shipper" | "extension";
  /** Prefix of the shipper's settings in the environment. */
  readonly prefix: string;
  /** Parses the variables as the code does at cold start (throws ConfigError). */
  parse(values: Readonly<Record<string, string>>): ShipperConfig;
}

export const SHIPPER_FUNCTION: ShipperKind = { id: "shipper", prefix: "", parse: (values) => parseShipperConfig(values) };
export const TELEMETRY_EXTENSION: ShipperKind = { id: "extension", prefix: EXTENSION_PREFIX, parse: (values) => parseExtensionConfig(values).shipper };

/** Policies about the pipeline's own settings apply to both kinds; delivery policies to the shipper only. */
export const EVERY_KIND: readonly ShipperKind[] = [SHIPPER_FUNCTION, TELEMETRY_EXTENSION];
export const SHIPPER_ONLY: readonly ShipperKind[] = [SHIPPER_FUNCTION];

/** Settings that decide the labels an entry ends up with (by their shipper names). */
export const LABEL_SETTINGS = [
  "KEEP_STREAM",
  "EXTRA_LABELS",
  "OMIT_EXTRA_LABELS_PREFIX",
  "DROP_LABELS",
  "RELABEL_CONFIGS",
  "TAG_LABELS",
  "TAG_LABELS_PREFIX",
  "LOKI_STAGE_CONFIGS",
] as const;

/** A function's environment variables. */
export interface Variables {
  /** Variables whose values are known. */
  readonly values: Readonly<Record<string, string>>;
  /** Variables that are set but whose values are unknown at preview (outputs of other resources). */
  readonly unknown: ReadonlySet<string>;
}

/** The variables of a function, read as the settings of one kind of pipeline. */
export interface FunctionEnvironment extends Variables {
  readonly kind: ShipperKind;
}

/**
 * The function's environment variables; undefined when it has none, UNKNOWN when the whole
 * variables map is computed at preview (then the pack cannot even tell whether it is a shipper).
 */
export function readEnvironment(props: unknown): Maybe<Variables | undefined> {
  const variables = readPath(props, ENV_PATH);
  if (isUnknown(variables)) return UNKNOWN;
  if (variables === null || typeof variables !== "object" || Array.isArray(variables)) return undefined;
  const values: Record<string, string> = {};
  const unknown = new Set<string>();
  for (const name of Object.keys(variables)) {
    const value = readKnown(() => (variables as Record<string, unknown>)[name]);
    if (isUnknown(value)) unknown.add(name);
    else if (typeof value === "string") values[name] = value;
    else if (typeof value === "number" || typeof value === "boolean") values[name] = String(value);
  }
  return { values, unknown };
}

/**
 * The pipelines a function runs, one environment per kind whose marker it sets (a shipper that
 * also carries the extension layer has both), limited to `kinds`. Empty for any other function,
 * and for one whose whole variables map is unknown at preview (`pulumi up` sees it).
 */
export function shipperEnvironments(props: unknown, kinds: readonly ShipperKind[] = EVERY_KIND): FunctionEnvironment[] {
  const variables = readEnvironment(props);
  if (isUnknown(variables) || variables === undefined) return [];
  return kinds.filter((kind) => isSet(variables, variable(kind, SHIPPER_MARKER))).map((kind) => ({ ...variables, kind }));
}

function isSet(variables: Variables, name: string): boolean {
  return Object.hasOwn(variables.values, name) || variables.unknown.has(name);
}

/** The variable holding a shipper setting for this kind: `LOKI_SKIP_TLS_VERIFY` for the extension. */
export function variable(kind: ShipperKind, setting: string): string {
  return kind.prefix === "" ? setting : prefixedName(setting, kind.prefix);
}

/** A setting's known value, "" when unset; throws the engine's preview error when unknown. */
export function knownSetting(env: FunctionEnvironment, setting: string): string {
  const name = variable(env.kind, setting);
  if (env.unknown.has(name)) throw unknownAtPreview([...ENV_PATH, name]);
  return env.values[name] ?? "";
}

/**
 * A boolean setting as the code reads it (known values only). An invalid value counts as false
 * here: the valid-shipper-settings policy reports it.
 */
export function booleanSetting(env: FunctionEnvironment, setting: string): boolean {
  try {
    return parseBoolean(variable(env.kind, setting), knownSetting(env, setting).trim());
  } catch (err) {
    if (err instanceof ConfigError) return false;
    throw err;
  }
}

export type ParsedSettings = { ok: true; config: ShipperConfig } | { ok: false; problem: string; setting?: string };

/**
 * Stand-ins for unknown values the check does not need, of a shape the validator accepts, so
 * cross-checks still hold (USERNAME needs PASSWORD; an unknown PASSWORD is almost always the
 * ARN of a secret the same stack creates). By shipper name.
 */
const PLACEHOLDERS: Readonly<Record<string, string>> = {
  WRITE_ADDRESS: "https://unknown-at-preview.invalid/loki/api/v1/push",
  USERNAME: "arn:aws:secretsmanager:us-east-1:000000000000:secret:unknown-at-preview",
  PASSWORD: "arn:aws:secretsmanager:us-east-1:000000000000:secret:unknown-at-preview",
  BEARER_TOKEN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:unknown-at-preview",
};

/**
 * The configuration the function (or its extension) would parse at cold start. Every setting in
 * `needed` must be known (otherwise the engine's preview error is thrown and the policy runs
 * again at `pulumi up`); other unknown variables get placeholders or are left out (their
 * defaults apply).
 */
export function parseSettings(env: FunctionEnvironment, needed: readonly string[]): ParsedSettings {
  for (const setting of needed) knownSetting(env, setting);
  const values: Record<string, string> = { ...env.values };
  for (const [setting, placeholder] of Object.entries(PLACEHOLDERS)) {
    const name = variable(env.kind, setting);
    if (env.unknown.has(name)) values[name] = placeholder;
  }
  try {
    return { ok: true, config: env.kind.parse(values) };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problem: err.message, setting: err.setting };
    return { ok: false, problem: (err as Error).message };
  }
}
