/**
 * Environment -> validated ExtensionConfig for the Telemetry API extension.
 *
 * The shipper's settings are read with the prefix `LOKI_` (`LOKI_WRITE_ADDRESS`, …) through the
 * shipper's own validator (`parseShipperConfig` with `prefix`), so both reject the same mistakes
 * with the same messages, naming the prefixed variable. Settings of the shipper that mean nothing
 * inside a function's execution environment are refused rather than silently ignored. The
 * extension's own settings (telemetry types, buffering, flush policy, memory bound, log group)
 * are listed in EXTENSION_SETTINGS, from which the README's reference table is generated.
 *
 * Pure: no I/O.
 */
import { ConfigError, EXTENSION_PREFIX, parseBoolean, parseShipperConfig, prefixedName, renameSettings, SETTINGS, SettingSpec, ShipperConfig } from "../handler/config";

export const PREFIX = EXTENSION_PREFIX;

/** Structured-metadata fields the extension fills (handler/metadata.ts lists them all). */
export const EXTENSION_METADATA_FIELDS = ["lambda_request_id", "level"] as const;

export type TelemetryType = "function" | "platform" | "extension";
export type FlushStrategy = "auto" | "end-of-invocation";

export interface ExtensionConfig {
  shipper: ShipperConfig;
  /** Telemetry types shipped to Loki; `function` always. `platform` is subscribed to in any case (runtimeDone). */
  shipTypes: ReadonlySet<TelemetryType>;
  buffering: { maxItems: number; maxBytes: number; timeoutMs: number };
  flushStrategy: FlushStrategy;
  /** Background push interval while busy; also the oldest held entries may be before a flush-before-next. */
  flushIntervalMs: number;
  /** Invocations per second from which pushes move to the background (auto strategy). */
  busyRate: number;
  /** Longest an end-of-invocation flush may keep the invocation open (also bounded by its deadline). */
  flushTimeoutMs: number;
  /** Bound of the entries held in memory (log text plus a per-entry overhead), past which the oldest are dropped. */
  maxHeldBytes: number;
  /** `__aws_cloudwatch_log_group`, when not /aws/lambda/<function name>. */
  logGroupName?: string;
}

/**
 * One of the extension's own settings. Its README row (default, accepted form) and its parser come
 * from the same values, so they cannot disagree: an unset setting is its documented default, parsed
 * like any value, and a refused value is refused with the documented accepted form.
 */
export interface OwnSetting<T> extends SettingSpec {
  /** For number settings: the accepted range. */
  readonly range?: { min: number; max: number };
  /** Reads the setting from the environment (trimmed; unset or empty: the default). */
  read(env: Readonly<Record<string, string | undefined>>): T;
}

type Documented = Pick<SettingSpec, "env" | "stackKey" | "description">;

/**
 * A setting parsed by `parse(raw, name, acceptedForm)`. Unset, it is `unset` when given (a default
 * that is a description, not a value), else the parse of `defaultValue`.
 */
function ownSetting<T>(
  spec: Documented & { defaultValue: string; acceptedForm: string; range?: { min: number; max: number } },
  parse: (raw: string, name: string, acceptedForm: string) => T,
  unset?: { value: T },
): OwnSetting<T> {
  return {
    ...spec,
    ours: true,
    read(env) {
      const raw = (env[spec.env] ?? "").trim();
      if (raw === "" && unset !== undefined) return unset.value;
      return parse(raw === "" ? spec.defaultValue : raw, spec.env, spec.acceptedForm);
    },
  };
}

/**
 * A number from `min` to `max`. `kind` is how the README names it, and decides what is accepted:
 * "a whole number of bytes" takes digits only, "a number of …" a decimal fraction too.
 */
function numberSetting(spec: Documented, kind: string, range: { min: number; max: number }, defaultValue: number): OwnSetting<number> {
  const pattern = kind.startsWith("a whole number") ? /^\d+$/ : /^\d+(\.\d+)?$/;
  return ownSetting({ ...spec, defaultValue: String(defaultValue), acceptedForm: `${kind} from ${range.min} to ${range.max}`, range }, (raw, name, acceptedForm) => {
    const n = Number(raw);
    if (!pattern.test(raw) || n < range.min || n > range.max) throw new ConfigError(name, `${JSON.stringify(raw)} is out of range`, acceptedForm);
    return n;
  });
}

/** Telemetry API buffering limits (Lambda Telemetry API reference, Subscribe, buffering). */
export const BUFFERING_LIMITS = {
  maxItems: { min: 1000, max: 10000 },
  maxBytes: { min: 262144, max: 1048576 },
  timeoutMs: { min: 25, max: 30000 },
} as const;

const TELEMETRY_TYPES: readonly TelemetryType[] = ["function", "platform", "extension"];
const FLUSH_STRATEGIES: readonly FlushStrategy[] = ["auto", "end-of-invocation"];
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/** The extension's own settings, by the ExtensionConfig field they fill, in the order the README documents them. */
const OWN = {
  shipTypes: ownSetting({
    env: "LOKI_TELEMETRY_TYPES", stackKey: "telemetryTypes", defaultValue: "function,platform",
    acceptedForm: `comma-separated telemetry types from ${TELEMETRY_TYPES.join(", ")} (function is always shipped)`,
    description: "What is shipped: `function` (the function's log lines), `platform` (START, END and REPORT lines as CloudWatch shows them, and the other platform events), `extension` (the extensions' own output, this one's included). `platform` is always subscribed to, because the flush after each invocation waits for `platform.runtimeDone`.",
  }, parseTypes),
  maxItems: numberSetting({
    env: "LOKI_TELEMETRY_MAX_ITEMS", stackKey: "telemetryMaxItems",
    description: "Telemetry API buffering: events Lambda gathers before it POSTs them to the extension.",
  }, "a whole number", BUFFERING_LIMITS.maxItems, 1000),
  maxBytes: numberSetting({
    env: "LOKI_TELEMETRY_MAX_BYTES", stackKey: "telemetryMaxBytes",
    description: "Telemetry API buffering: bytes Lambda gathers before it POSTs them to the extension.",
  }, "a whole number of bytes", BUFFERING_LIMITS.maxBytes, 262144),
  timeoutMs: numberSetting({
    env: "LOKI_TELEMETRY_TIMEOUT_MS", stackKey: "telemetryTimeoutMs",
    description: "Telemetry API buffering: longest Lambda holds an event before POSTing it. It delays `platform.runtimeDone`, so it adds to every flush after an invocation: keep it low.",
  }, "a whole number of milliseconds", BUFFERING_LIMITS.timeoutMs, 25),
  flushStrategy: ownSetting({
    env: "LOKI_FLUSH_STRATEGY", stackKey: "flushStrategy", defaultValue: "auto", acceptedForm: FLUSH_STRATEGIES.join(" or "),
    description: "`end-of-invocation`: push each invocation's lines after its `platform.runtimeDone`, before the extension asks for the next event. `auto`: the same, but while the function is busy (LOKI_BUSY_RATE) push in the background every LOKI_FLUSH_INTERVAL_MS instead, so invocations do not wait for Loki.",
  }, (raw, name, acceptedForm) => {
    const strategy = FLUSH_STRATEGIES.find((s) => s === raw.toLowerCase());
    if (strategy === undefined) throw new ConfigError(name, `${JSON.stringify(raw)} is not a flush strategy`, acceptedForm);
    return strategy;
  }),
  flushIntervalMs: numberSetting({
    env: "LOKI_FLUSH_INTERVAL_MS", stackKey: "flushIntervalMs",
    description: "While busy: how often held lines are pushed in the background, and the age after which an invocation's end flushes them anyway.",
  }, "a whole number of milliseconds", { min: 100, max: 60000 }, 1000),
  busyRate: numberSetting({
    env: "LOKI_BUSY_RATE", stackKey: "busyRate",
    description: "Invocation rate (over the last 10 invocations of this execution environment) from which `auto` pushes in the background; below half of it, pushes return to the end of each invocation.",
  }, "a number of invocations per second", { min: 0.01, max: 1000 }, 2),
  flushTimeoutMs: numberSetting({
    env: "LOKI_FLUSH_TIMEOUT_MS", stackKey: "flushTimeoutMs",
    description: "Longest a push at the end of an invocation may hold it open (retries included; 250 ms while Loki's last flush failed or stored nothing in its time); it never runs past the invocation's deadline either. What is not delivered is kept for a later invocation or SHUTDOWN.",
  }, "a whole number of milliseconds", { min: 100, max: 900000 }, 2000),
  maxHeldBytes: numberSetting({
    env: "LOKI_MAX_HELD_BYTES", stackKey: "maxHeldBytes",
    description: "Memory bound of the lines held while Loki cannot be reached (line bytes plus about 100 bytes per line). Past it the oldest lines are dropped and counted. It counts against the function's memory.",
  }, "a whole number of bytes", { min: 65536, max: 1073741824 }, 8388608),
  logGroupName: ownSetting<string | undefined>({
    env: "LOKI_LOG_GROUP_NAME", stackKey: "logGroupName", defaultValue: "/aws/lambda/<function name>",
    acceptedForm: "a CloudWatch log group name (1 to 512 letters, digits, '.', '-', '_', '/', '#')",
    description: "Value of `__aws_cloudwatch_log_group`: set it to the function's custom log group (Lambda does not tell extensions `AWS_LAMBDA_LOG_GROUP_NAME`), so labels match what the CloudWatch path gives.",
  }, (raw, name, acceptedForm) => {
    if (!LOG_GROUP.test(raw)) throw new ConfigError(name, `${JSON.stringify(raw)} is not a log group name`, acceptedForm);
    return raw;
  }, { value: undefined }),
};

/** The extension's own settings, in the order the README documents them. */
export const EXTENSION_SETTINGS: readonly OwnSetting<unknown>[] = Object.values(OWN);

/**
 * Shipper settings with no meaning inside a function's execution environment: given (and not
 * "false"/empty), they are refused with the reason, instead of doing nothing.
 */
export const UNSUPPORTED_SETTINGS: Readonly<Record<string, string>> = {
  KEEP_STREAM: "Lambda does not tell extensions the log stream name; use LOKI_STRUCTURED_METADATA=lambda_request_id to tell invocations apart",
  PRINT_LOG_LINE: "the extension would print every shipped line back into the function's own log (and into its telemetry)",
  TAG_LABELS: "log-group tags are not looked up by the extension; put the values in LOKI_EXTRA_LABELS",
  TAG_LABELS_PREFIX: "log-group tags are not looked up by the extension",
  TAG_CACHE_TTL_SECONDS: "log-group tags are not looked up by the extension",
  MAX_DECOMPRESSED_SIZE: "the extension receives no compressed payloads (it bounds CloudWatch and Kinesis payloads in the function)",
};

function parseTypes(raw: string, name: string, acceptedForm: string): Set<TelemetryType> {
  const types = new Set<TelemetryType>(["function"]);
  for (const item of raw.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "")) {
    const type = TELEMETRY_TYPES.find((t) => t === item);
    if (type === undefined) throw new ConfigError(name, `unknown telemetry type ${JSON.stringify(item)}`, acceptedForm);
    types.add(type);
  }
  return types;
}

/** Shipper settings the extension accepts (SETTINGS minus the unsupported ones), by their prefixed names. */
export function supportedShipperSettings(): SettingSpec[] {
  return SETTINGS.filter((s) => !(s.env in UNSUPPORTED_SETTINGS)).map((s) => ({
    ...s,
    env: prefixedName(s.env, PREFIX),
    acceptedForm: renameSettings(s.acceptedForm, PREFIX),
    description: renameSettings(s.extensionDescription ?? s.description, PREFIX),
  }));
}

/** Parses the extension's environment. Throws ConfigError naming the (prefixed) setting. */
export function parseExtensionConfig(env: Readonly<Record<string, string | undefined>>): ExtensionConfig {
  for (const [setting, reason] of Object.entries(UNSUPPORTED_SETTINGS)) {
    const name = prefixedName(setting, PREFIX);
    const raw = (env[name] ?? "").trim();
    if (raw === "" || (isBooleanSetting(setting) && !parseBoolean(name, raw))) continue;
    throw new ConfigError(name, `is not supported by the telemetry extension: ${reason}`, "leave it unset");
  }
  const shipper = parseShipperConfig(env, { prefix: PREFIX });
  const metadataName = prefixedName("STRUCTURED_METADATA", PREFIX);
  for (const field of shipper.structuredMetadata) {
    if (!(EXTENSION_METADATA_FIELDS as readonly string[]).includes(field)) {
      throw new ConfigError(metadataName, `field ${JSON.stringify(field)} is never set by the telemetry extension`, `comma-separated names from: ${EXTENSION_METADATA_FIELDS.join(", ")}`);
    }
  }
  const read = <T>(setting: OwnSetting<T>): T => setting.read(env);
  return {
    shipper,
    shipTypes: read(OWN.shipTypes),
    buffering: { maxItems: read(OWN.maxItems), maxBytes: read(OWN.maxBytes), timeoutMs: read(OWN.timeoutMs) },
    flushStrategy: read(OWN.flushStrategy),
    flushIntervalMs: read(OWN.flushIntervalMs),
    busyRate: read(OWN.busyRate),
    flushTimeoutMs: read(OWN.flushTimeoutMs),
    maxHeldBytes: read(OWN.maxHeldBytes),
    logGroupName: read(OWN.logGroupName),
  };
}

function isBooleanSetting(setting: string): boolean {
  return setting === "KEEP_STREAM" || setting === "PRINT_LOG_LINE";
}

/** `LOKI_*` variables the extension does not know (typos), to warn about at init. */
export function unknownPrefixedVariables(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = new Set([
    ...SETTINGS.map((s) => prefixedName(s.env, PREFIX)),
    ...EXTENSION_SETTINGS.map((s) => s.env),
  ]);
  return Object.keys(env).filter((name) => name.startsWith(PREFIX) && !known.has(name)).sort();
}
