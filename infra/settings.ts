/**
 * Stack config -> typed, validated ShipperStackSettings. Pure: no Pulumi, no I/O, so every
 * config mistake can be tested without the engine, and `pulumi preview` fails before a single
 * resource is declared.
 *
 * The shipper's own settings (writeAddress, batchSize, relabelConfigs, …) are not re-validated
 * here: they are mapped to the function's environment through the handler's SETTINGS table and
 * handed to `parseShipperConfig`, the very function the Lambda runs at cold start. Preview
 * therefore rejects exactly what the cold start would reject, with the same message, prefixed
 * by the stack config key.
 */
import { ConfigError, Credential, parseShipperConfig, SETTINGS, SettingSpec, ShipperConfig } from "../handler/config";
import { isTopicArn } from "./alarmTopic";

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** How S3 object-created events reach the function. */
export type Delivery = "direct" | "sqs" | "eventbridge";
export const DELIVERIES: readonly Delivery[] = ["direct", "sqs", "eventbridge"];

export type Architecture = "x86_64" | "arm64";
export type StartingPosition = "LATEST" | "TRIM_HORIZON";

export interface LogGroupSource {
  name: string;
  /** CloudWatch Logs filter pattern; "" forwards every event. */
  filterPattern: string;
}

export interface BucketSource {
  name: string;
  /** Object key prefix filter; "" for none. */
  prefix: string;
  /** Object key suffix filter; "" for none. */
  suffix: string;
  delivery: Delivery;
  /** The KMS key of the bucket's SSE-KMS encryption, when it has one: the role may decrypt with it through S3. */
  kmsKeyArn?: string;
}

export interface KinesisSource {
  /** The stream as configured: a name or an ARN. */
  stream: string;
  /** The stream name (from the ARN when an ARN was given). */
  name: string;
  /** The ARN when one was given; otherwise built from the deployment's partition, region and account. */
  arn?: string;
  batchSize: number;
  startingPosition: StartingPosition;
  maximumRetryAttempts: number;
  /** The customer-managed KMS key encrypting the stream, when it has one: the role may decrypt with it through Kinesis. */
  kmsKeyArn?: string;
}

/** Where the function code comes from. */
export type CodeSource =
  | { kind: "build" } // awsx.ecr.Image from handler/Dockerfile into a new awsx.ecr.Repository
  | { kind: "image"; imageUri: string } // an image the user built and pushed
  | { kind: "zip"; bundlePath: string }; // the esbuild bundle, zipped by Pulumi

/** Environment variables of the function that carry credentials. */
export type CredentialSetting = "USERNAME" | "PASSWORD" | "BEARER_TOKEN";

export interface ShipperStackSettings {
  /**
   * The function's environment, credentials excepted: exactly the shipper settings present in
   * the stack config, as strings, keyed by environment variable.
   */
  env: Record<string, string>;
  /**
   * Credentials by environment variable. A `value` is a plaintext the program stores in Secrets
   * Manager (the function receives the secret's ARN); an ARN is passed through and granted.
   */
  credentials: Partial<Record<CredentialSetting, Credential>>;
  /** The shipper's configuration as the handler parses it (for reference; the env is the contract). */
  shipper: ShipperConfig;
  functionName?: string;
  code: CodeSource;
  architecture: Architecture;
  memorySize: number;
  timeout: number;
  reservedConcurrency?: number;
  logRetentionDays: number;
  kmsKeyArn?: string;
  vpc?: { subnetIds: string[]; securityGroupIds: string[] };
  tags: Record<string, string>;
  logGroups: LogGroupSource[];
  buckets: BucketSource[];
  sqs: { batchSize: number; maxReceiveCount: number };
  kinesisStreams: KinesisSource[];
  /** The telemetry extension's layer to publish, when the stack asks for it. */
  extensionLayer?: ExtensionLayerSettings;
  /** CloudWatch alarms on the deployment, when the stack asks for them (opt-in). */
  alarms?: AlarmSettings;
}

/** The thresholds of the alarms (README, Alarms): counts per evaluation period, ages in seconds. */
export interface AlarmThresholds {
  deadLetterMessages: number;
  deadLetterDeliveryFailures: number;
  errors: number;
  throttles: number;
  iteratorAgeSeconds: number;
  recordsFailed: number;
  entriesRejected: number;
  deliveryLagSeconds: number;
}

export interface AlarmSettings {
  /** The SNS topic every alarm notifies when it goes to ALARM and back to OK; none: alarms notify no one. */
  topicArn?: string;
  thresholds: AlarmThresholds;
}

/** Publishing the telemetry extension as a Lambda layer (one version per architecture). */
export interface ExtensionLayerSettings {
  architectures: Architecture[];
  /** The layer zip built by `npm run build`, relative to the project directory. */
  zipPath: string;
}

/** One problem with one stack config key. */
export interface StackConfigIssue {
  /** The stack config key (without the project namespace). */
  key: string;
  /** Names the key and the accepted form; for shipper settings, the handler's own message. */
  message: string;
  /** The function's environment variable when the handler's validator reported it. */
  setting?: string;
}

/** Every problem found in the stack config, reported at once. */
export class StackConfigError extends Error {
  constructor(readonly issues: StackConfigIssue[]) {
    super(
      issues.length === 1
        ? issues[0].message
        : `${issues.length} problems in the stack config:\n${issues.map((i) => `  - ${i.message}`).join("\n")}`,
    );
    this.name = "StackConfigError";
  }

  /** The first offending key. */
  get key(): string {
    return this.issues[0].key;
  }
}

// ---------------------------------------------------------------------------------------------
// The infrastructure keys (the shipper's keys come from handler/config.ts SETTINGS)
// ---------------------------------------------------------------------------------------------

export interface InfraSettingSpec {
  key: string;
  defaultValue: string;
  acceptedForm: string;
  description: string;
}

/** CloudWatch Logs' accepted retention periods, in days. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const DEFAULTS = {
  architecture: "x86_64" as Architecture,
  memorySize: 256,
  timeout: 60,
  logRetentionDays: 14,
  bundlePath: "dist/handler/index.js",
  bucketDelivery: "direct" as Delivery,
  sqsBatchSize: 5,
  sqsMaxReceiveCount: 5,
  kinesisBatchSize: 100,
  kinesisStartingPosition: "LATEST" as StartingPosition,
  kinesisMaximumRetryAttempts: 3,
  extensionLayerZip: "dist/lambda-promtail-extension.zip",
};

/** One alarm threshold: its default and range, for validation and the README. */
export interface AlarmThresholdSpec {
  key: keyof AlarmThresholds;
  defaultValue: number;
  max: number;
  /** Which alarm it sets, and in what unit. */
  description: string;
  /** Needs the shipper's own metrics (`metrics` on). */
  shipperMetric: boolean;
}

const MAX_COUNT = 1_000_000_000;
/** A year: Kinesis' longest retention. */
const MAX_AGE_SECONDS = 365 * 24 * 3600;

/** Every threshold is a whole number from 1: a threshold of 0 on "at least" would always alarm. */
export const ALARM_THRESHOLDS: readonly AlarmThresholdSpec[] = [
  { key: "deadLetterMessages", defaultValue: 1, max: MAX_COUNT, shipperMetric: false, description: "Messages visible in the dead-letter queue." },
  { key: "deadLetterDeliveryFailures", defaultValue: 1, max: MAX_COUNT, shipperMetric: false, description: "Failed records Lambda could not put into the dead-letter queue (AWS/Lambda DestinationDeliveryFailures) in a 5-minute period." },
  { key: "errors", defaultValue: 1, max: MAX_COUNT, shipperMetric: false, description: "Function errors (AWS/Lambda Errors) in a 5-minute period, in 2 of 3 periods." },
  { key: "throttles", defaultValue: 1, max: MAX_COUNT, shipperMetric: false, description: "Throttled invocations (AWS/Lambda Throttles) in a 5-minute period, in 2 of 3 periods." },
  { key: "iteratorAgeSeconds", defaultValue: 300, max: MAX_AGE_SECONDS, shipperMetric: false, description: "Age in seconds of the last record of the Kinesis batches (AWS/Lambda IteratorAge, Maximum), for 5 minutes in a row." },
  { key: "recordsFailed", defaultValue: 1, max: MAX_COUNT, shipperMetric: true, description: "Records the shipper reported failed (RecordsFailed) in a 5-minute period, in 2 of 3 periods, per source kind." },
  { key: "entriesRejected", defaultValue: 1, max: MAX_COUNT, shipperMetric: true, description: "Entries Loki refused for good (EntriesRejected) in a 5-minute period, per source kind." },
  { key: "deliveryLagSeconds", defaultValue: 900, max: MAX_AGE_SECONDS, shipperMetric: true, description: "Delivery lag in seconds of the freshest push (DeliveryLagNewest, Minimum) for 15 minutes in a row, per source kind." },
];

export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = Object.fromEntries(ALARM_THRESHOLDS.map((t) => [t.key, t.defaultValue])) as unknown as AlarmThresholds;

const LIST_FORM = "a YAML list, or a comma-separated string";

/** The program's own keys, in the order the deployment guide documents them. */
export const INFRA_SETTINGS: readonly InfraSettingSpec[] = [
  { key: "functionName", defaultValue: "(generated by Pulumi)", acceptedForm: "1 to 64 letters, digits, '-' or '_'", description: "Name of the Lambda function; its log group is then /aws/lambda/<functionName>." },
  { key: "packageType", defaultValue: "image", acceptedForm: "image or zip", description: "image: a container image built from handler/Dockerfile (needs Docker) or given by imageUri; zip: the esbuild bundle and the native snappy binding staged next to it (run `npm run build` first, with LAMBDA_ARCHITECTURE=arm64 for arm64)." },
  { key: "imageUri", defaultValue: "(build handler/Dockerfile)", acceptedForm: "an ECR image URI, <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or …@sha256:<digest>", description: "Use an image you built and pushed instead of building one." },
  { key: "bundlePath", defaultValue: DEFAULTS.bundlePath, acceptedForm: "a path to the bundled handler, relative to the project directory", description: "The bundle zipped when packageType is zip." },
  { key: "architecture", defaultValue: DEFAULTS.architecture, acceptedForm: "x86_64 or arm64", description: "Instruction set of the function (and platform of the built image)." },
  { key: "memorySize", defaultValue: String(DEFAULTS.memorySize), acceptedForm: "a whole number of MB from 128 to 10240", description: "Memory of the function; CPU scales with it." },
  { key: "timeout", defaultValue: String(DEFAULTS.timeout), acceptedForm: "a whole number of seconds from 1 to 900", description: "Function timeout; the SQS queue's visibility timeout is six times this." },
  { key: "reservedConcurrency", defaultValue: "(unreserved)", acceptedForm: "a whole number from 1 up to the account's concurrency limit", description: "Reserved concurrent executions: caps how hard the shipper can push Loki." },
  { key: "logRetentionDays", defaultValue: String(DEFAULTS.logRetentionDays), acceptedForm: `one of ${RETENTION_DAYS.join(", ")}`, description: "Retention of the function's own log group." },
  { key: "kmsKeyArn", defaultValue: "(none)", acceptedForm: "a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key-id>", description: "Encrypts the function's environment and the credentials' secrets; the role may kms:Decrypt with it." },
  { key: "vpcSubnetIds", defaultValue: "(no VPC)", acceptedForm: `${LIST_FORM} of subnet ids (subnet-…); needs vpcSecurityGroupIds`, description: "Run the function in these subnets (they need a route to Loki)." },
  { key: "vpcSecurityGroupIds", defaultValue: "(no VPC)", acceptedForm: `${LIST_FORM} of security group ids (sg-…); needs vpcSubnetIds`, description: "Security groups of the function's network interfaces." },
  { key: "tags", defaultValue: "(none)", acceptedForm: "a map of tag keys to string values (keys not starting with aws:)", description: "Tags applied to every taggable resource the program creates." },
  { key: "logGroups", defaultValue: "(none)", acceptedForm: `${LIST_FORM} of log group names, or a list whose items are names or {name, filterPattern}`, description: "CloudWatch log groups to subscribe, each with an optional filter pattern." },
  { key: "buckets", defaultValue: "(none)", acceptedForm: `${LIST_FORM} of bucket names, or a list whose items are names or {name, prefix, suffix, delivery, kmsKeyArn}`, description: "S3 buckets whose new objects are shipped; kmsKeyArn: the key of a bucket encrypted with SSE-KMS (the role may kms:Decrypt with it through S3 only)." },
  { key: "bucketDelivery", defaultValue: DEFAULTS.bucketDelivery, acceptedForm: "direct, sqs or eventbridge", description: "Default delivery of S3 events: direct notification, through an SQS queue with a dead-letter queue, or through EventBridge." },
  { key: "bucketPrefix", defaultValue: "(none)", acceptedForm: "an object key prefix, e.g. AWSLogs/", description: "Default key prefix filter of the buckets." },
  { key: "bucketSuffix", defaultValue: "(none)", acceptedForm: "an object key suffix, e.g. .gz", description: "Default key suffix filter of the buckets." },
  { key: "sqsBatchSize", defaultValue: String(DEFAULTS.sqsBatchSize), acceptedForm: "a whole number from 1 to 10", description: "S3 event messages (objects) per invocation in sqs delivery." },
  { key: "sqsMaxReceiveCount", defaultValue: String(DEFAULTS.sqsMaxReceiveCount), acceptedForm: "a whole number from 1 to 1000", description: "Receives of a message before it moves to the dead-letter queue." },
  { key: "kinesisStreams", defaultValue: "(none)", acceptedForm: `${LIST_FORM} of existing stream names or ARNs, or a list whose items are names/ARNs or {stream, batchSize, startingPosition, maximumRetryAttempts, kmsKeyArn}`, description: "Kinesis Data Streams to read (batchSize 1-10000, default 100; startingPosition LATEST or TRIM_HORIZON, default LATEST; maximumRetryAttempts 0-10000, default 3; kmsKeyArn: the customer-managed key of an encrypted stream, which the role may kms:Decrypt with through Kinesis only)." },
  { key: "extensionLayer", defaultValue: "false", acceptedForm: `true, false, or ${LIST_FORM} of architectures (x86_64, arm64)`, description: "Publish the telemetry extension as a Lambda layer, one version per architecture (true: x86_64 and arm64); the stack exports their ARNs as extensionLayerArns." },
  { key: "extensionLayerZip", defaultValue: DEFAULTS.extensionLayerZip, acceptedForm: "a path to the layer zip, relative to the project directory", description: "The layer zip that `npm run build` writes, published when extensionLayer is set." },
  {
    key: "alarms",
    defaultValue: "(no alarms)",
    acceptedForm: `true, or a map {topicArn, thresholds}: topicArn an SNS topic ARN in the stack's region, arn:aws:sns:<region>:<account>:<topic>; thresholds a map of ${ALARM_THRESHOLDS.map((t) => t.key).join(", ")}, each a whole number from 1`,
    description: "CloudWatch alarms on the dead-letter queue and Lambda's deliveries to it, the function's errors and throttles, Kinesis iterator age and the shipper's own metrics (see Alarms); each notifies topicArn when it goes to ALARM and back to OK.",
  },
];

const INFRA_KEYS = new Set(INFRA_SETTINGS.map((s) => s.key));
const SHIPPER_KEYS = (): Map<string, SettingSpec> => new Map(SETTINGS.map((s) => [s.stackKey, s]));

function form(key: string): string {
  const spec = INFRA_SETTINGS.find((s) => s.key === key);
  if (!spec) throw new Error(`unknown infra setting ${key}`);
  return spec.acceptedForm;
}

/** A problem with one key; collected, then thrown together. */
class Issue extends Error {
  constructor(
    readonly key: string,
    problem: string,
    acceptedForm: string,
    /** Set when the handler's validator reported it: its message is kept verbatim. */
    readonly handlerError?: ConfigError,
  ) {
    super(`Invalid stack config "${key}": ${handlerError ? handlerError.message : `${problem}. Accepted form: ${acceptedForm}`}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/**
 * The stack config as Pulumi hands it to the program: `pulumi.runtime.allConfig()` keys are
 * `<namespace>:<key>`; keeps this project's keys, without the namespace.
 */
export function projectConfig(namespace: string, all: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const prefix = `${namespace}:`;
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  }
  return out;
}

/**
 * Validates the stack config and returns typed settings. `raw` maps config keys to values as
 * Pulumi passes them (strings; structured YAML values as JSON strings) or as parsed YAML values
 * (what tests pass). Throws StackConfigError listing every problem.
 */
export function parseStackSettings(raw: Readonly<Record<string, unknown>>): ShipperStackSettings {
  const issues: Issue[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof Issue) {
        issues.push(err);
        return fallback;
      }
      throw err;
    }
  };

  // Unknown keys first: a typo would otherwise silently fall back to a default.
  const shipperKeys = SHIPPER_KEYS();
  for (const key of Object.keys(raw)) {
    if (!INFRA_KEYS.has(key) && !shipperKeys.has(key)) {
      const hint = closestKey(key, [...shipperKeys.keys(), ...INFRA_KEYS]);
      issues.push(new Issue(key, `is not a setting of this program${hint ? ` (did you mean "${hint}"?)` : ""}`, "one of the keys in the deployment guide's table"));
    }
  }

  // The shipper's settings: map to the environment, then let the handler validate them.
  const env: Record<string, string> = {};
  let envOk = true;
  for (const spec of SETTINGS) {
    if (raw[spec.stackKey] === undefined) continue;
    const value = attempt(() => toEnvValue(spec, raw[spec.stackKey]), undefined);
    if (value === undefined) envOk = false;
    else env[spec.env] = value;
  }
  let shipper: ShipperConfig | undefined;
  if (envOk) {
    try {
      shipper = parseShipperConfig(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // A stage error names a position inside the setting: LOKI_STAGE_CONFIGS[2].json.expressions.
      const setting = err.setting.replace(/[[.].*$/, "");
      const key = SETTINGS.find((s) => s.env === setting)?.stackKey ?? err.setting;
      issues.push(new Issue(key, err.problem, err.acceptedForm, err));
    }
  }

  // The program's own settings.
  const functionName = attempt(() => optionalString(raw, "functionName", /^[A-Za-z0-9_-]{1,64}$/), undefined);
  const code = attempt(() => parseCode(raw), { kind: "build" } as CodeSource);
  const architecture = attempt(() => oneOf(raw, "architecture", ["x86_64", "arm64"] as const, DEFAULTS.architecture), DEFAULTS.architecture);
  const memorySize = attempt(() => integer(raw, "memorySize", 128, 10240, DEFAULTS.memorySize), DEFAULTS.memorySize);
  const timeout = attempt(() => integer(raw, "timeout", 1, 900, DEFAULTS.timeout), DEFAULTS.timeout);
  const reservedConcurrency = attempt(() => (raw.reservedConcurrency === undefined || raw.reservedConcurrency === "" ? undefined : integer(raw, "reservedConcurrency", 1, 1_000_000, 0)), undefined);
  const logRetentionDays = attempt(() => retention(raw), DEFAULTS.logRetentionDays);
  const kmsKeyArn = attempt(() => optionalString(raw, "kmsKeyArn", KMS_KEY_ARN), undefined);
  const vpc = attempt(() => parseVpc(raw), undefined);
  const tags = attempt(() => parseTags(raw), {});
  const logGroups = attempt(() => parseLogGroups(raw, functionName), []);
  const buckets = attempt(() => parseBuckets(raw), []);
  const sqs = {
    batchSize: attempt(() => integer(raw, "sqsBatchSize", 1, 10, DEFAULTS.sqsBatchSize), DEFAULTS.sqsBatchSize),
    maxReceiveCount: attempt(() => integer(raw, "sqsMaxReceiveCount", 1, 1000, DEFAULTS.sqsMaxReceiveCount), DEFAULTS.sqsMaxReceiveCount),
  };
  const kinesisStreams = attempt(() => parseKinesis(raw), []);
  const extensionLayer = attempt(() => parseExtensionLayer(raw), undefined);
  const alarms = attempt(() => parseAlarms(raw, shipper), undefined);

  if (shipper) attempt(() => checkEnvironmentSize(env, shipper as ShipperConfig), undefined);

  if (issues.length > 0 || !shipper) {
    throw new StackConfigError(issues.map((i) => ({ key: i.key, message: i.message, ...(i.handlerError ? { setting: i.handlerError.setting } : {}) })));
  }

  const credentials: Partial<Record<CredentialSetting, Credential>> = {};
  for (const spec of SETTINGS) {
    if (!spec.secret) continue;
    const credential = (shipper as unknown as Record<string, Credential | undefined>)[spec.stackKey];
    delete env[spec.env];
    if (credential) credentials[spec.env as CredentialSetting] = credential;
  }

  return {
    env,
    credentials,
    shipper,
    ...(functionName ? { functionName } : {}),
    code,
    architecture,
    memorySize,
    timeout,
    ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
    logRetentionDays,
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    ...(vpc ? { vpc } : {}),
    tags,
    logGroups,
    buckets,
    sqs,
    kinesisStreams,
    ...(extensionLayer ? { extensionLayer } : {}),
    ...(alarms ? { alarms } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Shipper settings -> environment strings
// ---------------------------------------------------------------------------------------------

/** Settings whose value is a comma-separated list; a YAML list is joined. */
const LIST_SETTINGS = new Set(["DROP_LABELS", "STRUCTURED_METADATA", "TAG_LABELS"]);

/**
 * One shipper setting as the function's environment carries it. Scalars become strings; a YAML
 * list becomes the comma-separated form; `extraLabels` may be a map; `relabelConfigs` a YAML
 * list, and `stageConfigs` too (both passed as JSON). Pulumi hands structured values over as JSON strings, recognised by
 * their first character where the plain form cannot start with it.
 */
function toEnvValue(spec: SettingSpec, value: unknown): string {
  const key = spec.stackKey;
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (spec.env === "RELABEL_CONFIGS" || spec.env === "LOKI_STAGE_CONFIGS") {
    return typeof value === "string" ? value : JSON.stringify(value);
  }
  if (typeof value === "string") {
    if (spec.secret) return value; // a credential is opaque: never reinterpret it
    const trimmed = value.trim();
    if (spec.env === "EXTRA_LABELS" && trimmed.startsWith("{")) return extraLabelsFromMap(key, parseJson(key, trimmed, spec.acceptedForm), spec);
    if ((spec.env === "EXTRA_LABELS" || LIST_SETTINGS.has(spec.env)) && trimmed.startsWith("[")) {
      return joinList(key, parseJson(key, trimmed, spec.acceptedForm), spec);
    }
    return value;
  }
  if (Array.isArray(value) && (spec.env === "EXTRA_LABELS" || LIST_SETTINGS.has(spec.env))) return joinList(key, value, spec);
  if (value !== null && typeof value === "object" && !Array.isArray(value) && spec.env === "EXTRA_LABELS") return extraLabelsFromMap(key, value, spec);
  throw new Issue(key, `expected a string, got ${describe(value)}`, spec.acceptedForm);
}

function parseJson(key: string, text: string, acceptedForm: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Issue(key, `is not valid JSON (${(err as Error).message})`, acceptedForm);
  }
}

function joinList(key: string, list: unknown, spec: SettingSpec): string {
  if (!Array.isArray(list)) throw new Issue(key, `expected a list, got ${describe(list)}`, spec.acceptedForm);
  return list
    .map((item, i) => {
      if (typeof item !== "string" && typeof item !== "number" && typeof item !== "boolean") {
        throw new Issue(key, `item ${i} should be a string, got ${describe(item)}`, spec.acceptedForm);
      }
      const s = String(item);
      if (s.includes(",")) throw new Issue(key, `item ${JSON.stringify(s)} contains a comma, which the comma-separated ${spec.env} cannot carry`, spec.acceptedForm);
      return s;
    })
    .join(",");
}

function extraLabelsFromMap(key: string, map: unknown, spec: SettingSpec): string {
  if (map === null || typeof map !== "object" || Array.isArray(map)) {
    throw new Issue(key, `expected a map of label names to values, got ${describe(map)}`, spec.acceptedForm);
  }
  const parts: string[] = [];
  for (const [name, v] of Object.entries(map as Record<string, unknown>)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      throw new Issue(key, `value of ${JSON.stringify(name)} should be a string, got ${describe(v)}`, spec.acceptedForm);
    }
    const s = String(v);
    if (s.includes(",") || name.includes(",")) {
      throw new Issue(key, `${JSON.stringify(name)}: ${JSON.stringify(s)} contains a comma, which the comma-separated ${spec.env} cannot carry`, spec.acceptedForm);
    }
    parts.push(name, s);
  }
  return parts.join(",");
}

/** Lambda caps the environment at 4 KB (names and values). Credential ARNs are counted at their worst. */
const MAX_ENV_BYTES = 4096;
const CREATED_SECRET_ARN_BYTES = 160;

function checkEnvironmentSize(env: Record<string, string>, shipper: ShipperConfig): void {
  let total = 0;
  let largest: { env: string; bytes: number } | undefined;
  for (const [name, value] of Object.entries(env)) {
    const spec = SETTINGS.find((s) => s.env === name);
    let bytes = Buffer.byteLength(name) + Buffer.byteLength(value);
    if (spec?.secret) {
      const credential = (shipper as unknown as Record<string, Credential | undefined>)[spec.stackKey];
      bytes = Buffer.byteLength(name) + (credential?.kind === "value" ? CREATED_SECRET_ARN_BYTES : Buffer.byteLength(value));
    }
    total += bytes;
    if (!spec?.secret && (!largest || bytes > largest.bytes)) largest = { env: name, bytes };
  }
  if (total > MAX_ENV_BYTES && largest) {
    const spec = SETTINGS.find((s) => s.env === largest.env) as SettingSpec;
    throw new Issue(spec.stackKey, `the function's environment would be about ${total} bytes, over Lambda's ${MAX_ENV_BYTES}-byte limit (${largest.env} alone is ${largest.bytes})`, `${spec.acceptedForm}, short enough for the whole environment to fit in 4 KB`);
  }
}

// ---------------------------------------------------------------------------------------------
// Infrastructure settings
// ---------------------------------------------------------------------------------------------

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function scalarString(raw: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (typeof v === "string") return v.trim();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new Issue(key, `expected a single value, got ${describe(v)}`, form(key));
}

function optionalString(raw: Readonly<Record<string, unknown>>, key: string, pattern: RegExp): string | undefined {
  const v = scalarString(raw, key);
  if (v === undefined || v === "") return undefined;
  if (!pattern.test(v)) throw new Issue(key, `${JSON.stringify(v)} is not valid`, form(key));
  return v;
}

function oneOf<T extends string>(raw: Readonly<Record<string, unknown>>, key: string, allowed: readonly T[], fallback: T): T {
  const v = scalarString(raw, key);
  if (v === undefined || v === "") return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new Issue(key, `${JSON.stringify(v)} is not one of ${allowed.join(", ")}`, form(key));
  return v as T;
}

/** `what` names the field inside a structured key (e.g. `thresholds.errors`). */
function wholeNumber(key: string, v: unknown, min: number, max: number, acceptedForm: string, what?: string): number {
  const at = what ? `${what}: ` : "";
  const text = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : undefined;
  if (text === undefined) throw new Issue(key, `${at}expected a number, got ${describe(v)}`, acceptedForm);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new Issue(key, `${at}${JSON.stringify(text)} is out of range${what ? ` (${min} to ${max})` : ""}`, acceptedForm);
  }
  return n;
}

function integer(raw: Readonly<Record<string, unknown>>, key: string, min: number, max: number, fallback: number): number {
  const v = raw[key];
  if (v === undefined || v === "") return fallback;
  return wholeNumber(key, v, min, max, form(key));
}

function retention(raw: Readonly<Record<string, unknown>>): number {
  const n = integer(raw, "logRetentionDays", 1, 3653, DEFAULTS.logRetentionDays);
  if (!(RETENTION_DAYS as readonly number[]).includes(n)) {
    throw new Issue("logRetentionDays", `${n} is not a retention period CloudWatch Logs offers`, form("logRetentionDays"));
  }
  return n;
}

const ARCHITECTURES: readonly Architecture[] = ["x86_64", "arm64"];

/** `extensionLayer`: a boolean (both architectures), or the architectures as a list or comma-separated string. */
function parseExtensionLayer(raw: Readonly<Record<string, unknown>>): ExtensionLayerSettings | undefined {
  const key = "extensionLayer";
  let v = raw[key];
  const zipPath = scalarString(raw, "extensionLayerZip") || DEFAULTS.extensionLayerZip;
  if (typeof v === "string" && v.trim().startsWith("[")) v = parseJson(key, v.trim(), form(key));
  let items: string[];
  if (v === undefined || v === false || v === "" || (typeof v === "string" && v.trim().toLowerCase() === "false")) return undefined;
  if (v === true || (typeof v === "string" && v.trim().toLowerCase() === "true")) items = [...ARCHITECTURES];
  else if (typeof v === "string") items = v.split(",").map((a) => a.trim()).filter((a) => a !== "");
  else if (Array.isArray(v)) items = v.map((a, i) => {
    if (typeof a !== "string") throw new Issue(key, `item ${i} should be an architecture, got ${describe(a)}`, form(key));
    return a.trim();
  });
  else throw new Issue(key, `expected true, false or a list of architectures, got ${describe(v)}`, form(key));
  for (const a of items) {
    if (!(ARCHITECTURES as readonly string[]).includes(a)) throw new Issue(key, `${JSON.stringify(a)} is not an architecture`, form(key));
  }
  if (items.length === 0) throw new Issue(key, "lists no architecture", form(key));
  return { architectures: [...new Set(items)] as Architecture[], zipPath };
}

/**
 * `alarms`: absent or false for none; true for every alarm at its default threshold; or a map
 * {topicArn, thresholds}. A threshold of one of the shipper's own metrics is refused when the
 * stack turns those metrics off: the alarm would watch a metric nobody publishes.
 */
function parseAlarms(raw: Readonly<Record<string, unknown>>, shipper: ShipperConfig | undefined): AlarmSettings | undefined {
  const key = "alarms";
  const v = raw[key];
  const flag = typeof v === "string" ? v.trim().toLowerCase() : v;
  if (v === undefined || flag === "" || flag === false || flag === "false") return undefined;
  if (flag === true || flag === "true") return { thresholds: { ...DEFAULT_ALARM_THRESHOLDS } };
  const m = map(raw, key) as Record<string, unknown>;
  checkFields(key, "", m, ["topicArn", "thresholds"]);
  let topicArn: string | undefined;
  if (m.topicArn !== undefined && m.topicArn !== null && m.topicArn !== "") {
    if (typeof m.topicArn !== "string" || !isTopicArn(m.topicArn.trim())) throw new Issue(key, `topicArn ${typeof m.topicArn === "string" ? JSON.stringify(m.topicArn) : describe(m.topicArn)} is not an SNS topic ARN`, form(key));
    topicArn = m.topicArn.trim();
  }
  const thresholds = { ...DEFAULT_ALARM_THRESHOLDS };
  if (m.thresholds !== undefined && m.thresholds !== null) {
    const t = m.thresholds;
    if (typeof t !== "object" || Array.isArray(t)) throw new Issue(key, `thresholds should be a map, got ${describe(t)}`, form(key));
    checkFields(key, "thresholds", t as Record<string, unknown>, ALARM_THRESHOLDS.map((s) => s.key));
    for (const spec of ALARM_THRESHOLDS) {
      const value = (t as Record<string, unknown>)[spec.key];
      if (value === undefined) continue;
      if (spec.shipperMetric && shipper && !shipper.metrics) {
        throw new Issue(key, `thresholds.${spec.key} sets an alarm on the shipper's own metrics, which metrics: false turns off`, "turn metrics on, or leave out " + ALARM_THRESHOLDS.filter((s) => s.shipperMetric).map((s) => s.key).join(", "));
      }
      thresholds[spec.key] = wholeNumber(key, value, 1, spec.max, form(key), `thresholds.${spec.key}`);
    }
  }
  return { ...(topicArn ? { topicArn } : {}), thresholds };
}

/** A KMS key by ARN (IAM grants name keys, not aliases). */
const KMS_KEY_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** An item's optional `kmsKeyArn` (buckets, kinesisStreams). */
function itemKmsKey(key: string, i: number, item: Record<string, unknown>): { kmsKeyArn?: string } {
  const value = item.kmsKeyArn;
  if (value === undefined || value === null || value === "") return {};
  if (typeof value !== "string" || !KMS_KEY_ARN.test(value.trim())) {
    throw new Issue(key, `item ${i}: kmsKeyArn ${typeof value === "string" ? JSON.stringify(value) : describe(value)} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key-id>; not an alias)`, form(key));
  }
  return { kmsKeyArn: value.trim() };
}

const ECR_IMAGE = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$/;

function parseCode(raw: Readonly<Record<string, unknown>>): CodeSource {
  const packageType = oneOf(raw, "packageType", ["image", "zip"] as const, "image");
  const imageUri = scalarString(raw, "imageUri") || undefined;
  const bundlePath = scalarString(raw, "bundlePath") || undefined;
  if (packageType === "zip") {
    if (imageUri) throw new Issue("imageUri", "cannot be used with packageType zip", "either packageType zip, or an imageUri with packageType image");
    return { kind: "zip", bundlePath: bundlePath ?? DEFAULTS.bundlePath };
  }
  if (bundlePath) throw new Issue("bundlePath", "only applies with packageType zip", "set packageType to zip, or remove bundlePath");
  if (imageUri) {
    if (!ECR_IMAGE.test(imageUri)) throw new Issue("imageUri", `${JSON.stringify(imageUri)} is not an ECR image URI`, form("imageUri"));
    return { kind: "image", imageUri };
  }
  return { kind: "build" };
}

/**
 * A list-valued key: a YAML list, a JSON list (how Pulumi passes structured values), or a
 * comma-separated string. None of the listed names (log groups, buckets, streams, ids) may
 * contain a comma or start with '['.
 */
function list(raw: Readonly<Record<string, unknown>>, key: string): unknown[] {
  const v = raw[key];
  if (v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === "string") {
    const trimmed = v.trim();
    if (trimmed === "") return [];
    if (trimmed.startsWith("[")) {
      const parsed = parseJson(key, trimmed, form(key));
      if (!Array.isArray(parsed)) throw new Issue(key, `expected a list, got ${describe(parsed)}`, form(key));
      return parsed;
    }
    return trimmed.split(",").map((s) => s.trim()).filter((s) => s !== "");
  }
  throw new Issue(key, `expected a list, got ${describe(v)}`, form(key));
}

function map(raw: Readonly<Record<string, unknown>>, key: string): Record<string, unknown> | undefined {
  let v = raw[key];
  if (v === undefined || v === "") return undefined;
  if (typeof v === "string") v = parseJson(key, v.trim(), form(key));
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Issue(key, `expected a map, got ${describe(v)}`, form(key));
  return v as Record<string, unknown>;
}

function stringList(raw: Readonly<Record<string, unknown>>, key: string, pattern: RegExp, what: string): string[] {
  const items = list(raw, key);
  const out: string[] = [];
  for (const [i, item] of items.entries()) {
    if (typeof item !== "string" || !pattern.test(item.trim())) {
      throw new Issue(key, `item ${i} (${describe(item)}) is not a ${what}`, form(key));
    }
    out.push(item.trim());
  }
  return dedupe(key, out, (s) => s);
}

function dedupe<T>(key: string, items: T[], id: (t: T) => string): T[] {
  const seen = new Set<string>();
  for (const item of items) {
    const k = id(item);
    if (seen.has(k)) throw new Issue(key, `${JSON.stringify(k)} is listed twice`, form(key));
    seen.add(k);
  }
  return items;
}

function parseVpc(raw: Readonly<Record<string, unknown>>): { subnetIds: string[]; securityGroupIds: string[] } | undefined {
  const subnetIds = stringList(raw, "vpcSubnetIds", /^subnet-[0-9a-f]{8,17}$/, "subnet id");
  const securityGroupIds = stringList(raw, "vpcSecurityGroupIds", /^sg-[0-9a-f]{8,17}$/, "security group id");
  if (subnetIds.length === 0 && securityGroupIds.length === 0) return undefined;
  if (subnetIds.length === 0) throw new Issue("vpcSubnetIds", "must be set because vpcSecurityGroupIds is set", "vpcSubnetIds and vpcSecurityGroupIds together, or neither");
  if (securityGroupIds.length === 0) throw new Issue("vpcSecurityGroupIds", "must be set because vpcSubnetIds is set", "vpcSubnetIds and vpcSecurityGroupIds together, or neither");
  return { subnetIds, securityGroupIds };
}

function parseTags(raw: Readonly<Record<string, unknown>>): Record<string, string> {
  const m = map(raw, "tags");
  if (!m) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k.length < 1 || k.length > 128 || k.toLowerCase().startsWith("aws:")) throw new Issue("tags", `${JSON.stringify(k)} is not a valid tag key`, form("tags"));
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw new Issue("tags", `value of ${JSON.stringify(k)} should be a string, got ${describe(v)}`, form("tags"));
    const s = String(v);
    if (s.length > 256) throw new Issue("tags", `value of ${JSON.stringify(k)} is longer than 256 characters`, form("tags"));
    out[k] = s;
  }
  return out;
}

/** Rejects fields a structured item does not know, so a typo (`prefx`) is not silently ignored. */
/** `where` names the map inside the key (`item 2`, `thresholds`), or is empty for the key's own map. */
function checkFields(key: string, where: string, item: Record<string, unknown>, allowed: readonly string[]): void {
  for (const field of Object.keys(item)) {
    if (!allowed.includes(field)) throw new Issue(key, `${where ? `${where} ` : ""}has an unknown field ${JSON.stringify(field)} (known: ${allowed.join(", ")})`, form(key));
  }
}

function itemString(key: string, i: number, item: Record<string, unknown>, field: string, fallback?: string): string {
  const v = item[field];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new Issue(key, `item ${i} needs a ${field}`, form(key));
  }
  if (typeof v !== "string") throw new Issue(key, `item ${i}: ${field} should be a string, got ${describe(v)}`, form(key));
  return v;
}

function itemObject(key: string, i: number, item: unknown): Record<string, unknown> {
  if (item === null || typeof item !== "object" || Array.isArray(item)) throw new Issue(key, `item ${i} should be a name or a map, got ${describe(item)}`, form(key));
  return item as Record<string, unknown>;
}

const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;

function parseLogGroups(raw: Readonly<Record<string, unknown>>, functionName: string | undefined): LogGroupSource[] {
  const key = "logGroups";
  const groups = list(raw, key).map((item, i): LogGroupSource => {
    const group = typeof item === "string" ? { name: item.trim(), filterPattern: "" } : (() => {
      const obj = itemObject(key, i, item);
      checkFields(key, `item ${i}`, obj, ["name", "filterPattern"]);
      return { name: itemString(key, i, obj, "name").trim(), filterPattern: itemString(key, i, obj, "filterPattern", "") };
    })();
    if (!LOG_GROUP_NAME.test(group.name)) throw new Issue(key, `${JSON.stringify(group.name)} is not a log group name`, form(key));
    if (group.filterPattern.length > 1024) throw new Issue(key, `the filter pattern of ${group.name} is longer than 1024 characters`, form(key));
    if (functionName && group.name === `/aws/lambda/${functionName}`) {
      throw new Issue(key, `${group.name} is the shipper's own log group; subscribing it would ship the shipper's logs to itself in a loop`, form(key));
    }
    return group;
  });
  return dedupe(key, groups, (g) => g.name);
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function parseBuckets(raw: Readonly<Record<string, unknown>>): BucketSource[] {
  const key = "buckets";
  const delivery = oneOf(raw, "bucketDelivery", DELIVERIES, DEFAULTS.bucketDelivery);
  const prefix = scalarString(raw, "bucketPrefix") ?? "";
  const suffix = scalarString(raw, "bucketSuffix") ?? "";
  const buckets = list(raw, key).map((item, i): BucketSource => {
    let bucket: BucketSource;
    if (typeof item === "string") {
      bucket = { name: item.trim(), prefix, suffix, delivery };
    } else {
      const obj = itemObject(key, i, item);
      checkFields(key, `item ${i}`, obj, ["name", "prefix", "suffix", "delivery", "kmsKeyArn"]);
      const d = itemString(key, i, obj, "delivery", delivery);
      if (!(DELIVERIES as readonly string[]).includes(d)) throw new Issue(key, `item ${i}: delivery ${JSON.stringify(d)} is not one of ${DELIVERIES.join(", ")}`, form(key));
      bucket = {
        name: itemString(key, i, obj, "name").trim(),
        prefix: itemString(key, i, obj, "prefix", prefix),
        suffix: itemString(key, i, obj, "suffix", suffix),
        delivery: d as Delivery,
        ...itemKmsKey(key, i, obj),
      };
    }
    if (!BUCKET_NAME.test(bucket.name)) throw new Issue(key, `${JSON.stringify(bucket.name)} is not a bucket name`, form(key));
    if (bucket.prefix.length > 1024 || bucket.suffix.length > 1024) throw new Issue(key, `the filters of ${bucket.name} are longer than 1024 characters`, form(key));
    return bucket;
  });
  // One bucket has one notification configuration, so one filter and one delivery.
  return dedupe(key, buckets, (b) => b.name);
}

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
const STREAM_ARN = /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:kinesis:[a-z0-9-]+:\d{12}:stream\/([a-zA-Z0-9_.-]{1,128})$/;

function parseKinesis(raw: Readonly<Record<string, unknown>>): KinesisSource[] {
  const key = "kinesisStreams";
  const streams = list(raw, key).map((item, i): KinesisSource => {
    let stream: string;
    let obj: Record<string, unknown> = {};
    if (typeof item === "string") {
      stream = item.trim();
    } else {
      obj = itemObject(key, i, item);
      checkFields(key, `item ${i}`, obj, ["stream", "batchSize", "startingPosition", "maximumRetryAttempts", "kmsKeyArn"]);
      stream = itemString(key, i, obj, "stream").trim();
    }
    const arnMatch = STREAM_ARN.exec(stream);
    if (!arnMatch && !STREAM_NAME.test(stream)) throw new Issue(key, `${JSON.stringify(stream)} is neither a stream name nor a stream ARN`, form(key));
    const startingPosition = obj.startingPosition === undefined ? DEFAULTS.kinesisStartingPosition : obj.startingPosition;
    if (startingPosition !== "LATEST" && startingPosition !== "TRIM_HORIZON") {
      throw new Issue(key, `item ${i}: startingPosition ${JSON.stringify(startingPosition)} is not LATEST or TRIM_HORIZON`, form(key));
    }
    return {
      stream,
      name: arnMatch ? arnMatch[1] : stream,
      ...(arnMatch ? { arn: stream } : {}),
      batchSize: obj.batchSize === undefined ? DEFAULTS.kinesisBatchSize : wholeNumber(key, obj.batchSize, 1, 10000, `${form(key)}; batchSize from 1 to 10000`),
      startingPosition,
      maximumRetryAttempts: obj.maximumRetryAttempts === undefined ? DEFAULTS.kinesisMaximumRetryAttempts : wholeNumber(key, obj.maximumRetryAttempts, 0, 10000, `${form(key)}; maximumRetryAttempts from 0 to 10000`),
      ...itemKmsKey(key, i, obj),
    };
  });
  // By name: one mapping per stream name keeps logical names readable (a function maps streams of its own region).
  return dedupe(key, streams, (s) => s.name);
}

/** The known key nearest to a misspelt one (edit distance at most 3, or a case-only difference). */
function closestKey(key: string, known: string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k);
    if (d <= 3 && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
