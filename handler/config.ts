/**
 * Environment -> validated ShipperConfig. The one place that knows every setting of the
 * shipper: the Lambda calls it at cold start, the Pulumi program calls it at preview time so
 * both reject the same mistakes with the same message, naming the setting and the accepted form.
 *
 * Pure: no I/O. Credentials that are secret ARNs are only recognised here; `secrets.ts` resolves them.
 */
import { ConfigError } from "./config-error";
import { isMetadataField, METADATA_FIELDS } from "./metadata";
import { compileRelabelConfigs, RelabelRule } from "./labels/relabel";
import { parseDropLabels, parseExtraLabels } from "./labels/pipeline";
import { isValidLabelName, sanitizeLabelName } from "./labels/names";
import { isValidTenantId, TENANT_ID_FORM } from "./labels/tenant";
import { Regex, RegexSyntaxError } from "./regex";
import { STAGE_CONFIGS_FORM } from "./stages/forms";
import { parseStageConfigs, type StagePipeline } from "./stages/index";
import { DURATION_FORM, parseByteSize, parseGoDuration } from "./stages/units";
import { DEFAULT_MAX_LINE_SIZE, LONG_LINE_ACTIONS, LongLineAction } from "./line-size";
import { isSendableInHeader, type Labels, UNSENDABLE_BEARER_TOKEN } from "./types";

/** Re-exported: the Pulumi program, the policy pack and the extension know it as config's error. */
export { ConfigError };

export type LogLevel = "debug" | "info" | "warn" | "error";

/** A credential: either the value itself or the ARN of a Secrets Manager secret / SSM parameter holding it. */
export type Credential = { kind: "value"; value: string } | { kind: "secretsmanager" | "ssm"; arn: string };

export interface ShipperConfig {
  writeAddress: string;
  username?: Credential;
  password?: Credential;
  bearerToken?: Credential;
  tenantId?: string;
  keepStream: boolean;
  batchSize: number;
  pushConcurrency: number;
  extraLabels: Labels;
  dropLabels: string[];
  relabelRules: RelabelRule[];
  /** Names from METADATA_FIELDS to attach to entries as structured metadata. */
  structuredMetadata: string[];
  skipTlsVerify: boolean;
  printLogLine: boolean;
  logLevel: LogLevel;
  /** Log-group tags to turn into labels; empty when tag enrichment is off. */
  tagLabels: TagLabelRule[];
  tagLabelsPrefix: string;
  tagCacheTtlMs: number;
  /** MAX_DECOMPRESSED_SIZE: the most bytes one CloudWatch payload or gzip Kinesis record may inflate to. */
  maxDecompressedSize: number;
  /** LOKI_STAGE_CONFIGS compiled; undefined when no stage is configured. */
  stages?: StagePipeline;
  /** PIPELINE_TIMEOUT in milliseconds, validated and accepted for compatibility (see the README). */
  pipelineTimeoutMs?: number;
  /** MAX_LINE_SIZE: the most UTF-8 bytes of one line shipped; longer lines get maxLineSizeAction. */
  maxLineSize: number;
  maxLineSizeAction: LongLineAction;
  /** METRICS: publish the shipper's own CloudWatch metrics (embedded metric format log lines). */
  metrics: boolean;
  metricsNamespace: string;
}

/** One TAG_LABELS item: an exact tag key (optionally renamed) or a pattern over tag keys. */
export type TagLabelRule = { kind: "key"; key: string; label: string } | { kind: "pattern"; pattern: Regex };


export interface SettingSpec {
  /** Environment variable of the function (lambda-promtail's name where it has one). */
  env: string;
  /** Pulumi stack config key. */
  stackKey: string;
  defaultValue: string;
  acceptedForm: string;
  description: string;
  /** true for settings lambda-promtail does not have. */
  ours?: boolean;
  secret?: boolean;
  /** The telemetry extension's wording, where `description` does not fit the extension (its LOKI_ names are filled in). */
  extensionDescription?: string;
}

const BOOLEAN_FORM = "true or false (case-insensitive); empty means false";
/** 1 MiB: Promtail's, Alloy's and Vector's default (lambda-promtail's is 128 KB); a 1 MB CloudWatch event takes about 8 pushes instead of 61. */
export const DEFAULT_BATCH_SIZE = 1048576;
export const DEFAULT_PUSH_CONCURRENCY = 4;
export const MAX_PUSH_CONCURRENCY = 16;
/** Far above any sane request (Loki's default gRPC/HTTP limits are a few MB); stops typos like 1e10. */
export const MAX_BATCH_SIZE = 64 * 1024 * 1024;
/**
 * What one CloudWatch Logs subscription payload (or gzip Kinesis record) may inflate to. AWS
 * bounds the compressed side only: a Lambda event is at most 1 MB (about 750 KB of gzip once
 * base64-encoded), a Kinesis record 1 MiB by default. Log text compresses 5 to 12 times (the
 * benchmark's payload: 1.04 MB of gzip holding 9.6 MB of JSON), so real payloads inflate to about
 * 10 MB; 16 MiB leaves room for more repetitive text and still fits a 128 MB function with the
 * parsed JSON (measured in bench/cloudwatch.ts). A 1 MB record inflating to 1 GB stops here.
 */
export const DEFAULT_MAX_DECOMPRESSED_SIZE = 16 * 1024 * 1024;
const BYTE_SIZE_FORM = "a whole number of bytes, or with a unit KB, MB or GB (1024-based as in Loki's configuration: KB = KiB), e.g. 262144 or 256KB";
export const DEFAULT_METRICS_NAMESPACE = "LambdaPromtail";
/** The telemetry extension reads these settings as LOKI_<name>, so that they cannot collide with the function's own. */
export const EXTENSION_PREFIX = "LOKI_";

/** What MAX_LINE_SIZE and MAX_LINE_SIZE_ACTION mean to the shipper and to the telemetry extension alike (each adds its own ending). */
const MAX_LINE_SIZE_MEANING = "The longest line (in UTF-8 bytes) shipped: Loki refuses longer ones (its `max_line_size`, 256 KB by default), so keep it at or below Loki's limit. A longer line gets MAX_LINE_SIZE_ACTION";
const LONG_LINE_ACTION_MEANING = "What happens to a line longer than MAX_LINE_SIZE: `truncate` keeps its first MAX_LINE_SIZE bytes (cut between characters, as Loki's `max_line_size_truncate`), `drop` leaves it out, `split` ships all of it as consecutive entries of at most MAX_LINE_SIZE bytes each (cut between characters, same timestamp, labels and metadata, in order; an S3 object's line is split as it is read, never held whole).";

/** Every setting of the shipper, in the order the README documents them. */
export const SETTINGS: readonly SettingSpec[] = [
  { env: "WRITE_ADDRESS", stackKey: "writeAddress", defaultValue: "(required)", acceptedForm: "an http:// or https:// URL of a Loki push endpoint, e.g. https://loki.example.com/loki/api/v1/push", description: "Where entries are pushed (Loki, Grafana Cloud, Alloy, Promtail push API)." },
  { env: "USERNAME", stackKey: "username", defaultValue: "(none)", acceptedForm: "a string, or the ARN of a Secrets Manager secret or SSM parameter holding it", description: "Basic-auth user; needs PASSWORD.", secret: true },
  { env: "PASSWORD", stackKey: "password", defaultValue: "(none)", acceptedForm: "a string, or the ARN of a Secrets Manager secret or SSM parameter holding it", description: "Basic-auth password; needs USERNAME.", secret: true },
  { env: "BEARER_TOKEN", stackKey: "bearerToken", defaultValue: "(none)", acceptedForm: "a string an HTTP header can carry (no line break or other control character, nothing beyond Latin-1), or the ARN of a Secrets Manager secret or SSM parameter holding one; not together with USERNAME", description: "Bearer token sent as `Authorization: Bearer …`.", secret: true },
  { env: "TENANT_ID", stackKey: "tenantId", defaultValue: "(none)", acceptedForm: TENANT_ID_FORM, description: "Sent as `X-Scope-OrgID` with the entries that have no `__tenant_id__` label (see [The tenant label](#the-tenant-label-__tenant_id__))." },
  { env: "KEEP_STREAM", stackKey: "keepStream", defaultValue: "false", acceptedForm: BOOLEAN_FORM, description: "Add `__aws_cloudwatch_log_stream` as a label. High cardinality: prefer STRUCTURED_METADATA=cloudwatch_log_stream." },
  { env: "BATCH_SIZE", stackKey: "batchSize", defaultValue: String(DEFAULT_BATCH_SIZE), acceptedForm: `a whole number of bytes from 1 to ${MAX_BATCH_SIZE}`, description: "Size in bytes of a push request (the protobuf body before compression, framing included) at which it is sent." },
  { env: "PUSH_CONCURRENCY", stackKey: "pushConcurrency", defaultValue: String(DEFAULT_PUSH_CONCURRENCY), acceptedForm: `a whole number from 1 to ${MAX_PUSH_CONCURRENCY}`, description: "Push requests in flight at once. Concurrent pushes of one stream may reach Loki out of order, which Loki 2.4 and later accept (`unordered_writes`, on by default); set 1 for an older Loki or one with unordered writes off.", ours: true },
  { env: "EXTRA_LABELS", stackKey: "extraLabels", defaultValue: "(none)", acceptedForm: "name1,value1,name2,value2,… with valid label names ([a-zA-Z_][a-zA-Z0-9_]*)", description: "Labels added to every entry, prefixed `__extra_` unless OMIT_EXTRA_LABELS_PREFIX=true." },
  { env: "OMIT_EXTRA_LABELS_PREFIX", stackKey: "omitExtraLabelsPrefix", defaultValue: "false", acceptedForm: BOOLEAN_FORM, description: "Add EXTRA_LABELS without the `__extra_` prefix." },
  { env: "DROP_LABELS", stackKey: "dropLabels", defaultValue: "(none)", acceptedForm: "comma-separated label names", description: "Labels removed before relabeling." },
  { env: "RELABEL_CONFIGS", stackKey: "relabelConfigs", defaultValue: "(none)", acceptedForm: 'a JSON array of Prometheus relabel_config objects, e.g. [{"source_labels":["__aws_cloudwatch_log_group"],"target_label":"log_group"}]', description: "Prometheus relabeling applied after extra and drop labels." },
  { env: "STRUCTURED_METADATA", stackKey: "structuredMetadata", defaultValue: "(none)", acceptedForm: "comma-separated field names from the structured-metadata table", description: "Per-entry fields attached as Loki structured metadata instead of labels.", ours: true },
  { env: "SKIP_TLS_VERIFY", stackKey: "skipTlsVerify", defaultValue: "false", acceptedForm: BOOLEAN_FORM, description: "Do not verify the Loki endpoint's TLS certificate." },
  { env: "PRINT_LOG_LINE", stackKey: "printLogLine", defaultValue: "false", acceptedForm: BOOLEAN_FORM, description: "Also print every shipped line to the function's own log (lambda-promtail defaults to true; it doubles the CloudWatch bill)." },
  { env: "TAG_LABELS", stackKey: "tagLabels", defaultValue: "(none: no tag lookups)", acceptedForm: "comma-separated items, each a tag key (`team`), a tag key renamed (`cost-center=cost_center`, split at the last '='), or a regular expression over tag keys between slashes, without commas, in Go RE2 syntax (matched anywhere in the key: `/^app[.]/`)", description: "Log-group tags to turn into labels (CloudWatch and Kinesis-carried CloudWatch payloads). Tag keys are sanitized into label names (`team:owner` -> `team_owner`) and prefixed with TAG_LABELS_PREFIX.", ours: true },
  { env: "TAG_LABELS_PREFIX", stackKey: "tagLabelsPrefix", defaultValue: "__aws_tag_", acceptedForm: "a label-name prefix ([a-zA-Z_][a-zA-Z0-9_]*), or empty for none", description: "Prefix of tag labels, so relabel rules decide which to keep.", ours: true },
  { env: "TAG_CACHE_TTL_SECONDS", stackKey: "tagCacheTtlSeconds", defaultValue: "300", acceptedForm: "a whole number of seconds from 1 to 86400", description: "How long a log group's tags (or a failed lookup) are cached in a warm container.", ours: true },
  { env: "MAX_DECOMPRESSED_SIZE", stackKey: "maxDecompressedSize", defaultValue: "16MB", acceptedForm: `${BYTE_SIZE_FORM}, from 1MB to 1024MB`, description: "The most one CloudWatch Logs subscription payload or gzip-compressed Kinesis record may inflate to; a record inflating to more fails alone (retry, then dead-letter queue) instead of exhausting the function's memory. Raise it together with the function's memory for very repetitive logs.", ours: true },
  { env: "LOKI_STAGE_CONFIGS", stackKey: "stageConfigs", defaultValue: "(none)", acceptedForm: STAGE_CONFIGS_FORM, description: "Promtail pipeline stages run on every entry after EXTRA_LABELS, DROP_LABELS and RELABEL_CONFIGS (see [Pipeline stages](#pipeline-stages-loki_stage_configs)). In the stack file, `stageConfigs` is a YAML list of the same stages." },
  { env: "PIPELINE_TIMEOUT", stackKey: "pipelineTimeout", defaultValue: "(none)", acceptedForm: DURATION_FORM, description: "lambda-promtail's guard against slow stages; accepted and validated for compatibility, but not needed: every stage regex runs in linear time (see [Pipeline stages](#pipeline-stages-loki_stage_configs))." },
  { env: "MAX_LINE_SIZE", stackKey: "maxLineSize", defaultValue: "256KB", acceptedForm: `${BYTE_SIZE_FORM}, from 1KB to 64MB`, description: `${MAX_LINE_SIZE_MEANING}; an S3 object never holds more than this of one line in memory.`, ours: true,
    extensionDescription: `${MAX_LINE_SIZE_MEANING} before it is held in memory, so LOKI_MAX_HELD_BYTES counts at most this of one line.` },
  { env: "MAX_LINE_SIZE_ACTION", stackKey: "maxLineSizeAction", defaultValue: "truncate", acceptedForm: `${LONG_LINE_ACTIONS.slice(0, -1).join(", ")} or ${LONG_LINE_ACTIONS[LONG_LINE_ACTIONS.length - 1]}`, description: `${LONG_LINE_ACTION_MEANING} Counted as truncatedLines / droppedLongLines / splitLines in the invocation summary.`, ours: true,
    extensionDescription: `${LONG_LINE_ACTION_MEANING} Counted as truncatedLines / droppedLongLines / splitLines in the summary at SHUTDOWN (dropped ones in the EntriesDropped metric).` },
  { env: "METRICS", stackKey: "metrics", defaultValue: "true", acceptedForm: "true or false (case-insensitive); empty means true", description: "Publish the shipper's own CloudWatch metrics (entries, bytes, pushes, failures, delivery lag; see Metrics) as embedded-metric-format lines of its log: no API calls.", ours: true,
    extensionDescription: "Publish the extension's own CloudWatch metrics (the shipper's set under `source_kind=telemetry`, see [Metrics of the extension](#metrics-of-the-extension)) as embedded-metric-format lines of the function's log: one per flush that did something, none while idle, no API calls." },
  { env: "METRICS_NAMESPACE", stackKey: "metricsNamespace", defaultValue: DEFAULT_METRICS_NAMESPACE, acceptedForm: "a CloudWatch namespace: 1 to 255 characters from letters, digits, '.', '-', '_', '/', '#', ':' and space, not starting with ':' or AWS/", description: "CloudWatch namespace of the shipper's metrics.", ours: true, extensionDescription: "CloudWatch namespace of the extension's metrics." },
  { env: "LOG_LEVEL", stackKey: "logLevel", defaultValue: "info", acceptedForm: "debug, info, warn or error", description: "Level of the function's own JSON logs.", extensionDescription: "Level of the extension's own JSON logs (in the function's log group)." },
];

const SECRET_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:(secretsmanager|ssm):[a-z0-9-]+:\d{12}:(secret:.+|parameter\/.+)$/;

export interface ParseOptions {
  /**
   * Read every setting as `prefix + name` (the telemetry extension reads `LOKI_WRITE_ADDRESS`, …,
   * so that its settings cannot collide with the function's own variables). Error messages then
   * name the prefixed settings. A setting whose name already starts with the prefix is read as it is.
   */
  prefix?: string;
}

/** Parses the function's environment. Throws ConfigError on the first bad setting. */
export function parseShipperConfig(env: Readonly<Record<string, string | undefined>>, options: ParseOptions = {}): ShipperConfig {
  const prefix = options.prefix ?? "";
  if (prefix === "") return parseUnprefixed(env);
  const unprefixed: Record<string, string | undefined> = {};
  for (const { env: name } of SETTINGS) unprefixed[name] = env[prefixedName(name, prefix)];
  try {
    return parseUnprefixed(unprefixed);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const rename = (text: string) => renameSettings(text, prefix);
    throw new ConfigError(prefixedName(err.setting, prefix), rename(err.problem), rename(err.acceptedForm));
  }
}

/** `name` as read under `prefix`: LOKI_ + BATCH_SIZE, but LOKI_STAGE_CONFIGS stays as it is. */
export function prefixedName(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name : prefix + name;
}

/** Replaces every setting name mentioned in a message ("needs USERNAME") by its prefixed name. */
export function renameSettings(text: string, prefix: string): string {
  const names = SETTINGS.map((s) => s.env).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?<![A-Z0-9_])(${names.join("|")})(?![A-Z0-9_])`, "g");
  return text.replace(pattern, (name) => prefixedName(name, prefix));
}

function parseUnprefixed(env: Readonly<Record<string, string | undefined>>): ShipperConfig {
  const get = (name: string): string => (env[name] ?? "").trim();

  const username = parseCredential("USERNAME", get("USERNAME"));
  const password = parseCredential("PASSWORD", get("PASSWORD"));
  const bearerToken = parseCredential("BEARER_TOKEN", get("BEARER_TOKEN"));
  if (Boolean(username) !== Boolean(password)) {
    const missing = username ? "PASSWORD" : "USERNAME";
    throw new ConfigError(missing, `must be set because ${missing === "PASSWORD" ? "USERNAME" : "PASSWORD"} is set`, "USERNAME and PASSWORD together, or neither");
  }
  if (bearerToken?.kind === "value" && !isSendableInHeader(bearerToken.value)) {
    throw new ConfigError("BEARER_TOKEN", UNSENDABLE_BEARER_TOKEN, spec("BEARER_TOKEN").acceptedForm);
  }
  if (username && bearerToken) {
    throw new ConfigError("BEARER_TOKEN", "cannot be used together with USERNAME/PASSWORD", "either basic auth (USERNAME and PASSWORD) or BEARER_TOKEN, not both");
  }

  const omitPrefix = parseBoolean("OMIT_EXTRA_LABELS_PREFIX", get("OMIT_EXTRA_LABELS_PREFIX"));
  return {
    writeAddress: parseWriteAddress(get("WRITE_ADDRESS")),
    username,
    password,
    bearerToken,
    tenantId: parseTenantId(get("TENANT_ID")),
    keepStream: parseBoolean("KEEP_STREAM", get("KEEP_STREAM")),
    batchSize: parseBatchSize(get("BATCH_SIZE")),
    pushConcurrency: parsePushConcurrency(get("PUSH_CONCURRENCY")),
    extraLabels: wrap("EXTRA_LABELS", () => parseExtraLabels(get("EXTRA_LABELS"), omitPrefix)),
    dropLabels: wrap("DROP_LABELS", () => parseDropLabels(get("DROP_LABELS"))),
    relabelRules: parseRelabelConfigs(get("RELABEL_CONFIGS")),
    structuredMetadata: parseStructuredMetadata(get("STRUCTURED_METADATA")),
    skipTlsVerify: parseBoolean("SKIP_TLS_VERIFY", get("SKIP_TLS_VERIFY")),
    printLogLine: parseBoolean("PRINT_LOG_LINE", get("PRINT_LOG_LINE")),
    logLevel: parseLogLevel(get("LOG_LEVEL")),
    tagLabels: parseTagLabels(get("TAG_LABELS")),
    tagLabelsPrefix: parseTagLabelsPrefix(env.TAG_LABELS_PREFIX),
    tagCacheTtlMs: parseTagCacheTtl(get("TAG_CACHE_TTL_SECONDS")),
    maxDecompressedSize: parseBytesSetting("MAX_DECOMPRESSED_SIZE", get("MAX_DECOMPRESSED_SIZE"), DEFAULT_MAX_DECOMPRESSED_SIZE, 1024 * 1024, 1024 * 1024 * 1024),
    stages: parseStageConfigs(get("LOKI_STAGE_CONFIGS"), "LOKI_STAGE_CONFIGS"),
    pipelineTimeoutMs: parsePipelineTimeout(get("PIPELINE_TIMEOUT")),
    maxLineSize: parseBytesSetting("MAX_LINE_SIZE", get("MAX_LINE_SIZE"), DEFAULT_MAX_LINE_SIZE, 1024, 64 * 1024 * 1024),
    maxLineSizeAction: parseLongLineAction(get("MAX_LINE_SIZE_ACTION")),
    metrics: get("METRICS") === "" || parseBoolean("METRICS", get("METRICS"), spec("METRICS").acceptedForm),
    metricsNamespace: parseMetricsNamespace(get("METRICS_NAMESPACE")),
  };
}

function parsePipelineTimeout(raw: string): number | undefined {
  if (raw === "") return undefined;
  const ms = parseGoDuration(raw);
  if (ms === undefined || ms <= 0) throw new ConfigError("PIPELINE_TIMEOUT", `${JSON.stringify(raw)} is not a positive duration`, DURATION_FORM);
  return ms;
}

function spec(env: string): SettingSpec {
  const found = SETTINGS.find((s) => s.env === env);
  if (!found) throw new Error(`unknown setting ${env}`);
  return found;
}

/** Runs a parser from another module and re-throws its error as a ConfigError for `setting`. */
function wrap<T>(setting: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(setting, (err as Error).message, spec(setting).acceptedForm);
  }
}

function parseWriteAddress(raw: string): string {
  const form = spec("WRITE_ADDRESS").acceptedForm;
  if (raw === "") throw new ConfigError("WRITE_ADDRESS", "is required but not set", form);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError("WRITE_ADDRESS", `${JSON.stringify(raw)} is not a URL`, form);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError("WRITE_ADDRESS", `scheme ${JSON.stringify(url.protocol)} is not http or https`, form);
  }
  return url.toString();
}

export function parseBoolean(setting: string, raw: string, acceptedForm = BOOLEAN_FORM): boolean {
  const lower = raw.toLowerCase();
  if (lower === "" || lower === "false") return false;
  if (lower === "true") return true;
  throw new ConfigError(setting, `${JSON.stringify(raw)} is not a boolean`, acceptedForm);
}

/**
 * CloudWatch's rules for a namespace: ASCII from a small set (CloudWatch concepts), not the
 * reserved AWS/ prefix, and not starting with ':' (the API's pattern `[^:].*`); CloudWatch would
 * drop the metrics of a namespace it refuses, and the alarms would watch nothing.
 */
function parseMetricsNamespace(raw: string): string {
  if (raw === "") return DEFAULT_METRICS_NAMESPACE;
  if (raw.length > 255 || !/^[0-9A-Za-z.\-_/#: ]+$/.test(raw) || raw.startsWith("AWS/") || raw.startsWith(":")) {
    throw new ConfigError("METRICS_NAMESPACE", `${JSON.stringify(raw)} is not a CloudWatch namespace`, spec("METRICS_NAMESPACE").acceptedForm);
  }
  return raw;
}

function parseBatchSize(raw: string): number {
  if (raw === "") return DEFAULT_BATCH_SIZE;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > MAX_BATCH_SIZE) {
    throw new ConfigError("BATCH_SIZE", `${JSON.stringify(raw)} is out of range`, spec("BATCH_SIZE").acceptedForm);
  }
  return n;
}

/** "262144", "256KB", "16 MiB" -> bytes, within [min, max]; units are 1024-based as in Loki's byte sizes (stages/units.ts). */
function parseBytesSetting(setting: string, raw: string, fallback: number, min: number, max: number): number {
  if (raw === "") return fallback;
  const n = parseByteSize(raw);
  if (n === undefined || n < min || n > max) {
    throw new ConfigError(setting, `${JSON.stringify(raw)} is not a size from ${min} to ${max} bytes`, spec(setting).acceptedForm);
  }
  return n;
}

function parseLongLineAction(raw: string): LongLineAction {
  if (raw === "") return "truncate";
  const action = LONG_LINE_ACTIONS.find((a) => a === raw.toLowerCase());
  if (action === undefined) {
    throw new ConfigError("MAX_LINE_SIZE_ACTION", `${JSON.stringify(raw)} is not an action`, spec("MAX_LINE_SIZE_ACTION").acceptedForm);
  }
  return action;
}

function parsePushConcurrency(raw: string): number {
  if (raw === "") return DEFAULT_PUSH_CONCURRENCY;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PUSH_CONCURRENCY) {
    throw new ConfigError("PUSH_CONCURRENCY", `${JSON.stringify(raw)} is out of range`, spec("PUSH_CONCURRENCY").acceptedForm);
  }
  return n;
}

function parseTenantId(raw: string): string | undefined {
  if (raw === "") return undefined;
  if (!isValidTenantId(raw)) {
    throw new ConfigError("TENANT_ID", `${JSON.stringify(raw)} is not a valid tenant id`, spec("TENANT_ID").acceptedForm);
  }
  return raw;
}

function parseCredential(setting: string, raw: string): Credential | undefined {
  if (raw === "") return undefined;
  if (raw.startsWith("arn:")) {
    const match = SECRET_ARN.exec(raw);
    if (!match) {
      throw new ConfigError(setting, "looks like an ARN but is not a Secrets Manager secret or SSM parameter ARN", spec(setting).acceptedForm);
    }
    return { kind: match[1] as "secretsmanager" | "ssm", arn: raw };
  }
  return { kind: "value", value: raw };
}

function parseRelabelConfigs(raw: string): RelabelRule[] {
  if (raw === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError("RELABEL_CONFIGS", `is not valid JSON (${(err as Error).message})`, spec("RELABEL_CONFIGS").acceptedForm);
  }
  return wrap("RELABEL_CONFIGS", () => compileRelabelConfigs(parsed));
}

function parseStructuredMetadata(raw: string): string[] {
  if (raw === "") return [];
  const names = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const form = `comma-separated names from: ${Object.keys(METADATA_FIELDS).join(", ")}`;
  for (const name of names) {
    if (!isValidLabelName(name) || !isMetadataField(name)) {
      throw new ConfigError("STRUCTURED_METADATA", `unknown field ${JSON.stringify(name)}`, form);
    }
  }
  return [...new Set(names)];
}

function parseLogLevel(raw: string): LogLevel {
  const lower = raw.toLowerCase();
  if (lower === "") return "info";
  if (lower === "debug" || lower === "info" || lower === "warn" || lower === "error") return lower;
  if (lower === "warning") return "warn";
  throw new ConfigError("LOG_LEVEL", `${JSON.stringify(raw)} is not a log level`, spec("LOG_LEVEL").acceptedForm);
}

function parseTagLabels(raw: string): TagLabelRule[] {
  if (raw === "") return [];
  const form = spec("TAG_LABELS").acceptedForm;
  return raw.split(",").map((item) => item.trim()).filter((item) => item !== "").map((item): TagLabelRule => {
    if (item.length > 2 && item.startsWith("/") && item.endsWith("/")) {
      try {
        return { kind: "pattern", pattern: Regex.compile(item.slice(1, -1)) };
      } catch (err) {
        throw new ConfigError("TAG_LABELS", `${JSON.stringify(item)} is not a valid regular expression (${(err as RegexSyntaxError).reason})`, form);
      }
    }
    const eq = item.lastIndexOf("=");
    const key = eq > 0 ? item.slice(0, eq) : item;
    const label = eq > 0 ? item.slice(eq + 1) : sanitizeLabelName(item);
    if (!isValidLabelName(label)) throw new ConfigError("TAG_LABELS", `${JSON.stringify(label)} in ${JSON.stringify(item)} is not a valid label name`, form);
    return { kind: "key", key, label };
  });
}

function parseTagLabelsPrefix(raw: string | undefined): string {
  if (raw === undefined) return "__aws_tag_";
  const prefix = raw.trim();
  if (prefix !== "" && !isValidLabelName(prefix)) {
    throw new ConfigError("TAG_LABELS_PREFIX", `${JSON.stringify(prefix)} is not a valid label-name prefix`, spec("TAG_LABELS_PREFIX").acceptedForm);
  }
  return prefix;
}

function parseTagCacheTtl(raw: string): number {
  if (raw === "") return 300_000;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 86400) {
    throw new ConfigError("TAG_CACHE_TTL_SECONDS", `${JSON.stringify(raw)} is out of range`, spec("TAG_CACHE_TTL_SECONDS").acceptedForm);
  }
  return n * 1000;
}
