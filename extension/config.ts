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

interface OwnSetting extends SettingSpec {
  /** Parses the trimmed raw value ("" when unset). */
  parse: (raw: string, name: string) => unknown;
}

/** Telemetry API buffering limits (Lambda Telemetry API reference, Subscribe, buffering). */
export const BUFFERING_LIMITS = {
  maxItems: { min: 1000, max: 10000 },
  maxBytes: { min: 262144, max: 1048576 },
  timeoutMs: { min: 25, max: 30000 },
} as const;

function wholeNumber(min: number, max: number, fallback: number, unit = ""): (raw: string, name: string) => number {
  return (raw, name) => {
    if (raw === "") return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      throw new ConfigError(name, `${JSON.stringify(raw)} is out of range`, `a whole number${unit} from ${min} to ${max}`);
    }
    return n;
  };
}

const TYPES_FORM = "comma-separated telemetry types from function, platform, extension (function is always shipped)";
const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/** The extension's own settings, in the order the README documents them. */
export const EXTENSION_SETTINGS: readonly OwnSetting[] = [
  {
    env: "LOKI_TELEMETRY_TYPES", stackKey: "telemetryTypes", defaultValue: "function,platform", acceptedForm: TYPES_FORM, ours: true,
    description: "What is shipped: `function` (the function's log lines), `platform` (START, END and REPORT lines as CloudWatch shows them, and the other platform events), `extension` (the extensions' own output, this one's included). `platform` is always subscribed to, because the flush after each invocation waits for `platform.runtimeDone`.",
    parse: (raw, name) => parseTypes(raw, name),
  },
  {
    env: "LOKI_TELEMETRY_MAX_ITEMS", stackKey: "telemetryMaxItems", defaultValue: "1000", acceptedForm: `a whole number from ${BUFFERING_LIMITS.maxItems.min} to ${BUFFERING_LIMITS.maxItems.max}`, ours: true,
    description: "Telemetry API buffering: events Lambda gathers before it POSTs them to the extension.",
    parse: wholeNumber(BUFFERING_LIMITS.maxItems.min, BUFFERING_LIMITS.maxItems.max, 1000),
  },
  {
    env: "LOKI_TELEMETRY_MAX_BYTES", stackKey: "telemetryMaxBytes", defaultValue: "262144", acceptedForm: `a whole number of bytes from ${BUFFERING_LIMITS.maxBytes.min} to ${BUFFERING_LIMITS.maxBytes.max}`, ours: true,
    description: "Telemetry API buffering: bytes Lambda gathers before it POSTs them to the extension.",
    parse: wholeNumber(BUFFERING_LIMITS.maxBytes.min, BUFFERING_LIMITS.maxBytes.max, 262144, " of bytes"),
  },
  {
    env: "LOKI_TELEMETRY_TIMEOUT_MS", stackKey: "telemetryTimeoutMs", defaultValue: "25", acceptedForm: `a whole number of milliseconds from ${BUFFERING_LIMITS.timeoutMs.min} to ${BUFFERING_LIMITS.timeoutMs.max}`, ours: true,
    description: "Telemetry API buffering: longest Lambda holds an event before POSTing it. It delays `platform.runtimeDone`, so it adds to every flush after an invocation: keep it low.",
    parse: wholeNumber(BUFFERING_LIMITS.timeoutMs.min, BUFFERING_LIMITS.timeoutMs.max, 25, " of milliseconds"),
  },
  {
    env: "LOKI_FLUSH_STRATEGY", stackKey: "flushStrategy", defaultValue: "auto", acceptedForm: "auto or end-of-invocation", ours: true,
    description: "`end-of-invocation`: push each invocation's lines after its `platform.runtimeDone`, before the extension asks for the next event. `auto`: the same, but while the function is busy (LOKI_BUSY_RATE) push in the background every LOKI_FLUSH_INTERVAL_MS instead, so invocations do not wait for Loki.",
    parse: (raw, name) => {
      const lower = raw.toLowerCase();
      if (lower === "" || lower === "auto") return "auto";
      if (lower === "end-of-invocation") return "end-of-invocation";
      throw new ConfigError(name, `${JSON.stringify(raw)} is not a flush strategy`, "auto or end-of-invocation");
    },
  },
  {
    env: "LOKI_FLUSH_INTERVAL_MS", stackKey: "flushIntervalMs", defaultValue: "1000", acceptedForm: "a whole number of milliseconds from 100 to 60000", ours: true,
    description: "While busy: how often held lines are pushed in the background, and the age after which an invocation's end flushes them anyway.",
    parse: wholeNumber(100, 60000, 1000, " of milliseconds"),
  },
  {
    env: "LOKI_BUSY_RATE", stackKey: "busyRate", defaultValue: "2", acceptedForm: "a number of invocations per second from 0.01 to 1000", ours: true,
    description: "Invocation rate (over the last 10 invocations of this execution environment) from which `auto` pushes in the background; below half of it, pushes return to the end of each invocation.",
    parse: (raw, name) => {
      if (raw === "") return 2;
      const n = Number(raw);
      if (!/^\d+(\.\d+)?$/.test(raw) || n < 0.01 || n > 1000) {
        throw new ConfigError(name, `${JSON.stringify(raw)} is out of range`, "a number of invocations per second from 0.01 to 1000");
      }
      return n;
    },
  },
  {
    env: "LOKI_FLUSH_TIMEOUT_MS", stackKey: "flushTimeoutMs", defaultValue: "2000", acceptedForm: "a whole number of milliseconds from 100 to 900000", ours: true,
    description: "Longest a push at the end of an invocation may hold it open (retries included); it never runs past the invocation's deadline either. What is not delivered is kept for a later invocation or SHUTDOWN.",
    parse: wholeNumber(100, 900000, 2000, " of milliseconds"),
  },
  {
    env: "LOKI_MAX_HELD_BYTES", stackKey: "maxHeldBytes", defaultValue: "8388608", acceptedForm: "a whole number of bytes from 65536 to 1073741824", ours: true,
    description: "Memory bound of the lines held while Loki cannot be reached (line bytes plus about 100 bytes per line). Past it the oldest lines are dropped and counted. It counts against the function's memory.",
    parse: wholeNumber(65536, 1073741824, 8388608, " of bytes"),
  },
  {
    env: "LOKI_LOG_GROUP_NAME", stackKey: "logGroupName", defaultValue: "/aws/lambda/<function name>", acceptedForm: "a CloudWatch log group name (1 to 512 letters, digits, '.', '-', '_', '/', '#')", ours: true,
    description: "Value of `__aws_cloudwatch_log_group`: set it to the function's custom log group (Lambda does not tell extensions `AWS_LAMBDA_LOG_GROUP_NAME`), so labels match what the CloudWatch path gives.",
    parse: (raw, name) => {
      if (raw === "") return undefined;
      if (!LOG_GROUP.test(raw)) throw new ConfigError(name, `${JSON.stringify(raw)} is not a log group name`, "a CloudWatch log group name (1 to 512 letters, digits, '.', '-', '_', '/', '#')");
      return raw;
    },
  },
];

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

function parseTypes(raw: string, name: string): Set<TelemetryType> {
  const types = new Set<TelemetryType>(["function"]);
  if (raw === "") return new Set(["function", "platform"]);
  for (const item of raw.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "")) {
    if (item !== "function" && item !== "platform" && item !== "extension") {
      throw new ConfigError(name, `unknown telemetry type ${JSON.stringify(item)}`, TYPES_FORM);
    }
    types.add(item);
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
  const own: Record<string, unknown> = {};
  for (const setting of EXTENSION_SETTINGS) own[setting.env] = setting.parse((env[setting.env] ?? "").trim(), setting.env);
  return {
    shipper,
    shipTypes: own.LOKI_TELEMETRY_TYPES as Set<TelemetryType>,
    buffering: {
      maxItems: own.LOKI_TELEMETRY_MAX_ITEMS as number,
      maxBytes: own.LOKI_TELEMETRY_MAX_BYTES as number,
      timeoutMs: own.LOKI_TELEMETRY_TIMEOUT_MS as number,
    },
    flushStrategy: own.LOKI_FLUSH_STRATEGY as FlushStrategy,
    flushIntervalMs: own.LOKI_FLUSH_INTERVAL_MS as number,
    busyRate: own.LOKI_BUSY_RATE as number,
    flushTimeoutMs: own.LOKI_FLUSH_TIMEOUT_MS as number,
    maxHeldBytes: own.LOKI_MAX_HELD_BYTES as number,
    logGroupName: own.LOKI_LOG_GROUP_NAME as string | undefined,
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
