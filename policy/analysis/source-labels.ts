/**
 * The base labels each source produces, as the handler builds them, with representative values:
 * the configured log group, stream or account where the stack names them, placeholders
 * otherwise. S3 labels come from the handler's own key classifier run on keys of the shape AWS
 * writes, so label names stay those of `handler/parsers/keys.ts`.
 *
 * Labels whose value changes from one log stream or object to the next (the high-cardinality
 * ones) come with families of alternative values: each family keeps the shape of one real-world
 * kind of value (a Lambda stream, an ECS task stream…) and varies only what varies in reality
 * (ids, dates), using distinct sentinel ids. Running the relabel engine on each alternative
 * shows whether the value reaches the labels Loki receives.
 */
import { createHash } from "node:crypto";
import { baseLabels as telemetryBaseLabels } from "../../extension/labels";
import type { TagLabelRule } from "../../handler/config";
import { classifyKey } from "../../handler/parsers/keys";
import type { Labels } from "../../handler/types";

export type SourceKind = "cloudwatch" | "kinesis" | "s3";

/** One configured source: a log group, a Kinesis stream, S3 objects. */
export interface SourceRef {
  kind: SourceKind;
  /** Log group name, Kinesis stream ARN or bucket name, when known. */
  key?: string;
}

/** Every kind, for a shipper whose sources the stack does not declare. */
export const ALL_SOURCE_KINDS: readonly SourceRef[] = [{ kind: "cloudwatch" }, { kind: "kinesis" }, { kind: "s3" }];

/** Alternative values of one shape, e.g. Lambda log streams of different containers and days. */
export interface ValueFamily {
  /** What the values look like, for messages. */
  shape: string;
  values: readonly string[];
}

/** A base label whose value varies per stream or object: high cardinality. */
export interface VaryingLabel {
  name: string;
  /** Why its values are many, for messages. */
  why: string;
  /** The STRUCTURED_METADATA field that keeps the value queryable without a label, if any. */
  metadataField?: string;
  families: readonly ValueFamily[];
}

/** The base labels of one kind of entry of a source. */
export interface LabelSetTemplate {
  /** e.g. `CloudWatch log group /aws/lambda/app`, for messages. */
  source: string;
  base: Readonly<Labels>;
  varying: readonly VaryingLabel[];
  /**
   * The base labels whose value is the real one for every entry (the log type, and a log
   * group, stream ARN, account or function name the stack names); the others hold placeholders.
   * Only these may decide a `match` selector (policy/analysis/cardinality.ts, decidedLabels).
   */
  known?: readonly string[];
  /** Label names starting with this may exist that base does not show (a TAG_LABELS pattern adds one per matching tag). */
  placeholderNamesPrefix?: string;
}

export interface LabelOptions {
  keepStream: boolean;
  tagLabels: readonly TagLabelRule[];
  tagLabelsPrefix: string;
  /** Account id for owner labels, when known. */
  account?: string;
}

export const STREAM_LABEL = "__aws_cloudwatch_log_stream";
const EXAMPLE_ACCOUNT = "123456789012";
const EXAMPLE_LOG_GROUP = "/aws/lambda/example-app";
const EXAMPLE_STREAM_ARN = `arn:aws:kinesis:us-east-1:${EXAMPLE_ACCOUNT}:stream/example-stream`;
/** Alternatives per family: enough for a leak to show, few enough to keep the pack fast. */
const VARIANTS = 4;

export function labelSetTemplates(source: SourceRef, opts: LabelOptions): LabelSetTemplate[] {
  switch (source.kind) {
    case "cloudwatch":
      return [cloudWatchTemplate(`CloudWatch log group ${source.key ?? "(any)"}`, { __aws_log_type: "cloudwatch" }, source.key, opts, ["__aws_log_type"])];
    case "kinesis": {
      const sourceLabels = { __aws_log_type: "kinesis", __aws_kinesis_event_source_arn: source.key ?? EXAMPLE_STREAM_ARN };
      const stream = `Kinesis stream ${source.key ?? "(any)"}`;
      const known = source.key === undefined ? ["__aws_log_type"] : ["__aws_log_type", "__aws_kinesis_event_source_arn"];
      return [
        cloudWatchTemplate(`${stream} (CloudWatch Logs payloads)`, sourceLabels, undefined, opts, known),
        { source: `${stream} (raw records)`, base: sourceLabels, varying: [], known },
      ];
    }
    case "s3":
      return s3Templates(source.key, opts.account ?? EXAMPLE_ACCOUNT);
  }
}

/** lambda-promtail's CloudWatch labels: see `cloudWatchGroup` and `withTagLabels` in the handler. */
/** A function carrying the telemetry extension, as far as the stack tells. */
export interface TelemetryFunction {
  /** The function's name, when known. */
  functionName?: string;
  /** LOKI_LOG_GROUP_NAME, when set. */
  logGroupName?: string;
  account?: string;
}

const EXAMPLE_FUNCTION = "example-function";

/**
 * The telemetry extension's labels, from its own `baseLabels`: one stream per function version
 * (log group, owner, function name and version), nothing that varies per execution environment
 * (the extension is not told the log stream; LOKI_KEEP_STREAM is refused).
 */
export function telemetryTemplate(fn: TelemetryFunction): LabelSetTemplate {
  const name = fn.functionName ?? EXAMPLE_FUNCTION;
  const base = telemetryBaseLabels({ logGroupName: fn.logGroupName }, { functionName: name, functionVersion: "$LATEST", accountId: fn.account ?? EXAMPLE_ACCOUNT }, {});
  const known = ["__aws_log_type"];
  if (fn.functionName !== undefined) known.push("__aws_lambda_function_name");
  if (fn.logGroupName !== undefined || fn.functionName !== undefined) known.push("__aws_cloudwatch_log_group");
  if (fn.account !== undefined) known.push("__aws_cloudwatch_owner");
  return { source: `telemetry of function ${fn.functionName ?? "(any)"}`, base, varying: [], known };
}

function cloudWatchTemplate(source: string, sourceLabels: Labels, logGroup: string | undefined, opts: LabelOptions, sourceKnown: readonly string[]): LabelSetTemplate {
  const base: Labels = {
    // Tag labels go under the source's own labels, which win on a clash.
    ...tagLabels(opts.tagLabels, opts.tagLabelsPrefix),
    ...sourceLabels,
    __aws_cloudwatch_log_group: logGroup ?? EXAMPLE_LOG_GROUP,
    __aws_cloudwatch_owner: opts.account ?? EXAMPLE_ACCOUNT,
  };
  const varying: VaryingLabel[] = [];
  if (opts.keepStream) {
    base[STREAM_LABEL] = LOG_STREAM_FAMILIES[0].values[0];
    varying.push({
      name: STREAM_LABEL,
      why: "every Lambda execution environment, ECS task, instance or pod writes its own log stream",
      metadataField: "cloudwatch_log_stream",
      families: LOG_STREAM_FAMILIES,
    });
  }
  const known = [...sourceKnown];
  // Not the owner: a Kinesis stream or a destination may carry other accounts' log groups.
  if (logGroup !== undefined) known.push("__aws_cloudwatch_log_group");
  return { source, base, varying, known, ...(opts.tagLabels.some((rule) => rule.kind !== "key") ? { placeholderNamesPrefix: opts.tagLabelsPrefix } : {}) };
}

/**
 * Tag labels as `tagsToLabels` names them: an exact key rule gives `prefix + label`. A pattern
 * rule's names depend on the tags found at run time; each counts as one label here.
 */
export function tagLabels(rules: readonly TagLabelRule[], prefix: string): Labels {
  const labels: Labels = {};
  rules.forEach((rule, i) => {
    const name = rule.kind === "key" ? rule.label : `tags_matching_pattern_${i + 1}`;
    labels[prefix + name] = `tag-value-${i + 1}`;
  });
  return labels;
}

/** Object keys of the shape AWS writes, one per log format the shipper reads. */
function exampleKeys(account: string): Array<[string, string]> {
  const day = "2024/05/01";
  return [
    ["S3 ALB access logs", `AWSLogs/${account}/elasticloadbalancing/us-east-1/${day}/${account}_elasticloadbalancing_us-east-1_app.example-alb.50dc6c495c0c9188_20240501T0000Z_10.0.0.1_2ab3cd4e.log.gz`],
    ["S3 VPC flow logs", `AWSLogs/${account}/vpcflowlogs/us-east-1/${day}/${account}_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20240501T0000Z_1a2b3c4d.log.gz`],
    ["S3 CloudTrail logs", `AWSLogs/${account}/CloudTrail/us-east-1/${day}/${account}_CloudTrail_us-east-1_20240501T0000Z_AbCdEf123.json.gz`],
    ["S3 CloudFront logs", `cloudfront/E2EXAMPLE1ABCD.2024-05-01-12.a1b2c3d4.gz`],
    ["S3 WAF logs", `AWSLogs/${account}/WAFLogs/us-east-1/example-acl/${day}/12/00/${account}_waflogs_us-east-1_example-acl_20240501T1200Z_1a2b3c4d.log.gz`],
    ["S3 GuardDuty findings", `AWSLogs/${account}/GuardDuty/us-east-1/${day}/0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b.jsonl.gz`],
    ["S3 server access logs", `access-logs/${account}/us-east-1/example-source-bucket/${day}/2024-05-01-12-00-00-ABCDEF0123456789`],
    ["S3 MSK broker logs", `AWSLogs/${account}/KafkaBrokerLogs/us-east-1/example-cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789-3/2024-05-01-12/Broker-1_12-05_1a2b3c4d.log.gz`],
  ];
}

function s3Templates(bucket: string | undefined, account: string): LabelSetTemplate[] {
  const where = bucket ? ` in bucket ${bucket}` : "";
  return exampleKeys(account).map(([what, key]): LabelSetTemplate => {
    const info = classifyKey(key, key);
    const varying: VaryingLabel[] = [];
    if (info.format === "cloudfront") {
      // The handler's CloudFront owner label is the key's directory: with date-partitioned
      // delivery (CloudFront's newer log delivery) it changes every hour.
      varying.push({
        name: "__aws_s3_cloudfront_owner",
        why: "it is the object key's directory, which holds the date and hour when CloudFront delivery is partitioned",
        metadataField: "s3_key",
        families: [cloudFrontPartitionedPrefixes(account)],
      });
    }
    return { source: `${what}${where}`, base: info.labels, varying, known: ["__aws_log_type"] };
  });
}

function cloudFrontPartitionedPrefixes(account: string): ValueFamily {
  const values = range(VARIANTS).map((i) => {
    const key = `AWSLogs/${account}/CloudFront/E2EXAMPLE1ABCD/2024/05/${day(i)}/${hour(i)}/E2EXAMPLE1ABCD.2024-05-${day(i)}-${hour(i)}.${sentinel(`cf${i}`, 8)}.gz`;
    return classifyKey(key, key).labels.__aws_s3_cloudfront_owner ?? "";
  });
  return { shape: "date-partitioned CloudFront prefixes (AWSLogs/<account>/CloudFront/<distribution>/yyyy/MM/dd/HH)", values };
}

/** Log stream names as AWS services write them; only ids and dates differ within a family. */
const LOG_STREAM_FAMILIES: readonly ValueFamily[] = [
  { shape: "Lambda streams (2024/05/01/[$LATEST]<id>)", values: range(VARIANTS).map((i) => `2024/05/${day(i)}/[$LATEST]${sentinel(`lambda${i}`, 32)}`) },
  { shape: "Lambda version streams (2024/05/01/[42]<id>)", values: range(VARIANTS).map((i) => `2024/05/${day(i)}/[42]${sentinel(`version${i}`, 32)}`) },
  { shape: "ECS task streams (<prefix>/<container>/<task id>)", values: range(VARIANTS).map((i) => `ecs/app/${sentinel(`ecs${i}`, 32)}`) },
  { shape: "EC2 instance streams (i-<id>)", values: range(VARIANTS).map((i) => `i-0${sentinel(`ec2${i}`, 16)}`) },
  { shape: "Kubernetes pod log files", values: range(VARIANTS).map((i) => `kube.var.log.containers.app-${sentinel(`rs${i}`, 10)}-${sentinel(`pod${i}`, 5)}_default_app-${sentinel(`ctr${i}`, 64)}.log`) },
  { shape: "random ids (API Gateway, Step Functions…)", values: range(VARIANTS).map((i) => uuidFrom(sentinel(`uuid${i}`, 32))) },
];

/** A distinct, deterministic hex id: the sentinel that shows where a value ends up. */
function sentinel(seed: string, length: number): string {
  let out = "";
  for (let n = 0; out.length < length; n++) out += createHash("sha256").update(`${seed}/${n}`).digest("hex");
  return out.slice(0, length);
}

function uuidFrom(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function day(i: number): string {
  return String(i + 1).padStart(2, "0");
}

function hour(i: number): string {
  return String(10 + i).padStart(2, "0");
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
