/**
 * The shipper's environment: how the pack recognises a lambda-promtail function and reads its
 * settings with the handler's own validator (`parseShipperConfig`), so that the pack judges
 * exactly the configuration the function would run with.
 */
import { ConfigError, parseBoolean, parseShipperConfig, ShipperConfig } from "../../handler/config";
import { isUnknown, Maybe, readKnown, readPath, UNKNOWN, unknownAtPreview } from "./unknowns";

/** Where a function's variables sit in `aws:lambda/function:Function` properties. */
export const ENV_PATH = ["environment", "variables"] as const;

/** The variable that makes a function "the shipper": lambda-promtail cannot run without it. */
export const SHIPPER_MARKER = "WRITE_ADDRESS";

/** Settings that decide the labels an entry ends up with. */
export const LABEL_SETTINGS = [
  "KEEP_STREAM",
  "EXTRA_LABELS",
  "OMIT_EXTRA_LABELS_PREFIX",
  "DROP_LABELS",
  "RELABEL_CONFIGS",
  "TAG_LABELS",
  "TAG_LABELS_PREFIX",
] as const;

export interface FunctionEnvironment {
  /** Variables whose values are known. */
  readonly values: Readonly<Record<string, string>>;
  /** Variables that are set but whose values are unknown at preview (outputs of other resources). */
  readonly unknown: ReadonlySet<string>;
}

/**
 * The function's environment variables; undefined when it has none, UNKNOWN when the whole
 * variables map is computed at preview (then the pack cannot even tell whether it is a shipper).
 */
export function readEnvironment(props: unknown): Maybe<FunctionEnvironment | undefined> {
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

export function isShipperEnvironment(env: FunctionEnvironment): boolean {
  return Object.hasOwn(env.values, SHIPPER_MARKER) || env.unknown.has(SHIPPER_MARKER);
}

/** A variable's known value, "" when unset; throws the engine's preview error when unknown. */
export function knownSetting(env: FunctionEnvironment, name: string): string {
  if (env.unknown.has(name)) throw unknownAtPreview([...ENV_PATH, name]);
  return env.values[name] ?? "";
}

/**
 * A boolean setting as the handler reads it (known values only). An invalid value counts as
 * false here: the valid-shipper-settings policy reports it.
 */
export function booleanSetting(env: FunctionEnvironment, name: string): boolean {
  try {
    return parseBoolean(name, knownSetting(env, name).trim());
  } catch (err) {
    if (err instanceof ConfigError) return false;
    throw err;
  }
}

export type ParsedSettings = { ok: true; config: ShipperConfig } | { ok: false; problem: string; setting?: string };

/**
 * Stand-ins for unknown values the check does not need, of a shape the validator accepts, so
 * cross-checks still hold (USERNAME needs PASSWORD; an unknown PASSWORD is almost always the
 * ARN of a secret the same stack creates).
 */
const PLACEHOLDERS: Readonly<Record<string, string>> = {
  WRITE_ADDRESS: "https://unknown-at-preview.invalid/loki/api/v1/push",
  USERNAME: "arn:aws:secretsmanager:us-east-1:000000000000:secret:unknown-at-preview",
  PASSWORD: "arn:aws:secretsmanager:us-east-1:000000000000:secret:unknown-at-preview",
  BEARER_TOKEN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:unknown-at-preview",
};

/**
 * The configuration the function would parse at cold start. Every variable in `needed` must be
 * known (otherwise the engine's preview error is thrown and the policy runs again at `pulumi
 * up`); other unknown variables get placeholders or are left out (their defaults apply).
 */
export function parseSettings(env: FunctionEnvironment, needed: readonly string[]): ParsedSettings {
  for (const name of needed) knownSetting(env, name);
  const values: Record<string, string> = { ...env.values };
  for (const name of env.unknown) {
    if (PLACEHOLDERS[name] !== undefined) values[name] = PLACEHOLDERS[name];
  }
  try {
    return { ok: true, config: parseShipperConfig(values) };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problem: err.message, setting: err.setting };
    return { ok: false, problem: (err as Error).message };
  }
}
