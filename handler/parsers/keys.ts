/**
 * Object key -> log format and base labels, without reading the object.
 *
 * Label names and values follow lambda-promtail (pkg/s3.go) so relabel rules and dashboards
 * written for it keep working: `__aws_log_type` = s3_lb | s3_vpc_flow | s3_cloudtrail |
 * s3_cloudfront | s3_waf | s3_guardduty | s3_access | s3_msk, `__aws_<type>` = the source named by
 * the key (load balancer name, flow log id, distribution id, web ACL, source bucket, MSK cluster
 * directory) and
 * `__aws_<type>_owner` = the account id (CloudFront: the key prefix, as lambda-promtail does).
 * A label whose value the key does not give is left out rather than sent empty.
 *
 * Where we differ, on purpose:
 * - Matching is on the file name AWS writes, so keys under Hive-compatible prefixes
 *   (`aws-account-id=…/aws-service=vpcflowlogs/…`) and under any user prefix are recognised.
 * - `__aws_s3_cloudtrail` is the trail's region, not the random suffix of the file name:
 *   lambda-promtail's value made one stream per file (grafana/loki#10669).
 * - Load balancer names containing `app`/`net` at the start are not truncated, bucket names with
 *   dots are accepted, ALB connection and health-check log files are recognised, CloudTrail
 *   Insights files are read like CloudTrail files.
 *
 * Key formats (AWS documentation):
 *   ELB:  …/AWSLogs/<acct>/elasticloadbalancing/<region>/yyyy/mm/dd/[conn_log_|health_check_log_]<acct>_elasticloadbalancing_<region>_[app.|net.]<name>[.<id>]_<end>_…
 *   VPC:  …/<acct>_vpcflowlogs_<region>_<flow-log-id>_<end>_<hash>.log.gz  (.parquet: not supported)
 *   CloudTrail: …/AWSLogs/[o-<org>/]<acct>/CloudTrail[-Insight]/<region>/yyyy/mm/dd/<acct>_CloudTrail[-Insight]_<region>_<time>_<unique>.json.gz
 *   CloudTrail digest (skipped): …/CloudTrail-Digest/<region>/yyyy/mm/dd/<acct>_CloudTrail-Digest_<region>_<trail>_<home-region>_<yyyymmddThhmmssZ>.json.gz
 *   CloudFront: [prefix/]<distribution-id>.yyyy-mm-dd-hh.<unique>.gz
 *   WAF:  …/AWSLogs/<acct>/WAFLogs/<region>/<web-acl>/yyyy/mm/dd/hh/mm/<acct>_waflogs_<region>_<web-acl>_<time>_<hash>.log.gz
 *   GuardDuty: …/AWSLogs/<acct>/GuardDuty/<region>/yyyy/mm/dd/<uuid>.jsonl.gz
 *   S3 access, date-partitioned: [prefix]<acct>/<region>/<source-bucket>/yyyy/mm/dd/yyyy-mm-dd-hh-mm-ss-<unique>
 *   S3 access, simple:           [prefix]yyyy-mm-dd-hh-mm-ss-<unique>
 *   MSK:  …/AWSLogs/<acct>/KafkaBrokerLogs/<region>/<cluster>-<cluster-uuid>/yyyy-mm-dd-hh/Broker-<id>_<hh>-<mm>_<hash>.log.gz
 *
 * Objects that hold no log lines are recognised by `notALogFile` and skipped, not failed: the
 * CloudTrail digests, the `ELBAccessLogTestFile` a load balancer writes when access logging is
 * turned on, and zero-byte "folder" keys ending in `/` (the S3 console's "Create folder").
 */
import { BadRecordError, Labels } from "../types";

export type FormatId = "lb" | "vpc_flow" | "cloudtrail" | "cloudfront" | "waf" | "guardduty" | "s3_access" | "msk";

/** Which load balancer log a `lb` object holds: decides where the client address is on a line. */
export type LbVariant = "alb" | "nlb" | "clb" | "alb_connection" | "alb_health_check";

export interface KeyInfo {
  format: FormatId;
  /** The `__aws_log_type` value. */
  logType: string;
  labels: Labels;
  lbVariant?: LbVariant;
  /** Set when the object is recognised but holds no log lines to ship (CloudTrail digests). */
  skipReason?: string;
}

const REGION = "[a-z]{2,}(?:-[a-z]+)+-\\d+";

const ELB_OR_FLOW = new RegExp(
  `^(conn_log|health_check_log)?[._]?(\\d+)_(elasticloadbalancing|vpcflowlogs)_(${REGION})_(?:(app|net)\\.)?([A-Za-z0-9-]+)[._]`,
);
const CLOUDTRAIL = new RegExp(`^(\\d+)_CloudTrail(-Digest|-Insight)?_(${REGION})_\\d{8}T\\d{4}Z_[A-Za-z0-9]+\\.json(?:\\.gz)?$`);
const WAF = /(?:^|\/)AWSLogs\/(\d+)\/WAFLogs\/([\w-]+)\/([\w-]+)\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}\/[^/]+$/;
const GUARDDUTY = /(?:^|\/)AWSLogs\/(\d+)\/GuardDuty\/([\w-]+)\/\d{4}\/\d{2}\/\d{2}\/[^/]+$/;
const CLOUDFRONT = /^([A-Z0-9]+)\.\d{4}-\d{2}-\d{2}-\d{2}\.[A-Za-z0-9]+(?:\.gz)?$/;
const ACCESS_TIME_NAME = "\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-[A-Za-z0-9]+";
const S3_ACCESS_PARTITIONED = new RegExp(
  `(?:^|/)(\\d+)/(${REGION})/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/\\d{4}/\\d{2}/\\d{2}/${ACCESS_TIME_NAME}$`,
);
const S3_ACCESS_SIMPLE = new RegExp(`^${ACCESS_TIME_NAME}$`);
/** The cluster directory is `<cluster name>-<cluster ARN uuid>`; the ARN's uuid ends in `-<n>`. */
const MSK = /(?:^|\/)AWSLogs\/(\d+)\/KafkaBrokerLogs\/[\w-]+\/([A-Za-z0-9-]+)\/\d{4}-\d{2}-\d{2}-\d{2}\/Broker-\d+_\d{2}-\d{2}_[A-Za-z0-9]+\.log(?:\.gz)?$/;
const CLOUDTRAIL_DIGEST_NAME = new RegExp(`^\\d+_CloudTrail-Digest_${REGION}_.+_\\d{8}T\\d{4,6}Z(?:_[A-Za-z0-9]+)?\\.json(?:\\.gz)?$`);
const CLOUDTRAIL_DIGEST_DIR = /(?:^|\/)AWSLogs\/(?:o-[a-z0-9]+\/)?\d+\/CloudTrail-Digest\//;

const SUPPORTED =
  "ALB/NLB/CLB access, ALB connection and health-check logs, VPC flow logs, CloudTrail, CloudFront standard logs, WAF, GuardDuty findings, S3 server access logs, MSK broker logs";

/**
 * Why the object at `key` holds no log lines to ship, or undefined for a (possibly) log file.
 * Such objects are skipped with an info line rather than failing their record: failing would
 * retry them and then fill the dead-letter queue, every hour, with nothing anyone can fix.
 */
export function notALogFile(key: string): string | undefined {
  if (key.endsWith("/")) return "a folder placeholder (a key ending in /), not a log file";
  const name = key.slice(key.lastIndexOf("/") + 1);
  if (name === "ELBAccessLogTestFile") return "the test object a load balancer writes when access logging is turned on";
  if (CLOUDTRAIL_DIGEST_NAME.test(name) || CLOUDTRAIL_DIGEST_DIR.test(key)) return "CloudTrail digest files hold signatures, not events";
  return undefined;
}

/** Decides the format of the object at `key` (already URL-decoded). Throws BadRecordError for unknown keys. */
export function classifyKey(key: string, what: string): KeyInfo {
  const slash = key.lastIndexOf("/");
  const name = key.slice(slash + 1);

  let m = ELB_OR_FLOW.exec(name);
  if (m) {
    const [, prefix, account, service, , lbType, source] = m;
    if (service === "vpcflowlogs") {
      if (/\.parquet$/i.test(name)) {
        throw new BadRecordError(`${what}: Parquet VPC flow logs are not supported; create the flow log with log file format "plain-text"`);
      }
      return info("vpc_flow", "s3_vpc_flow", source, account);
    }
    return { ...info("lb", "s3_lb", source, account), lbVariant: lbVariant(prefix, lbType) };
  }

  m = CLOUDTRAIL.exec(name);
  if (m) {
    const [, account, kind, region] = m;
    const result = info("cloudtrail", "s3_cloudtrail", region, account);
    if (kind === "-Digest") result.skipReason = "CloudTrail digest files hold signatures, not events";
    return result;
  }

  m = WAF.exec(key);
  if (m) return info("waf", "s3_waf", m[3], m[1]);

  m = GUARDDUTY.exec(key);
  // GuardDuty exports name no detector or other source: lambda-promtail sends the label empty.
  if (m) return info("guardduty", "s3_guardduty", undefined, m[1]);

  m = CLOUDFRONT.exec(name);
  if (m) return info("cloudfront", "s3_cloudfront", m[1], slash > 0 ? key.slice(0, slash) : undefined);

  m = S3_ACCESS_PARTITIONED.exec(key);
  if (m) return info("s3_access", "s3_access", m[3], m[1]);

  // The simple form names neither the source bucket nor its account: the source bucket is
  // read from the first line (see s3-access.ts).
  if (S3_ACCESS_SIMPLE.test(name)) return info("s3_access", "s3_access", undefined, undefined);

  m = MSK.exec(key);
  if (m) return info("msk", "s3_msk", m[2], m[1]);

  throw new BadRecordError(`${what}: cannot tell the log type from the object key; supported: ${SUPPORTED}, under the key names AWS writes`);
}

function info(format: FormatId, logType: string, source: string | undefined, owner: string | undefined): KeyInfo {
  const labels: Labels = { __aws_log_type: logType };
  if (source) labels[`__aws_${logType}`] = source;
  if (owner) labels[`__aws_${logType}_owner`] = owner;
  return { format, logType, labels };
}

function lbVariant(prefix: string | undefined, lbType: string | undefined): LbVariant {
  if (prefix === "conn_log") return "alb_connection";
  if (prefix === "health_check_log") return "alb_health_check";
  if (lbType === "app") return "alb";
  if (lbType === "net") return "nlb";
  return "clb";
}
