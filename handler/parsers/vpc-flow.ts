/**
 * VPC flow logs (`s3_vpc_flow`), plain-text form. Every file starts with a header naming the
 * fields of the flow log's format, default or custom:
 *
 *   version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
 *   2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
 *
 * The header is read, not shipped; each record is stamped with its `start` field (Unix
 * seconds) wherever the format puts it. A format without `start`, or a record whose `start` is
 * `-`, gets the fallback (event) time: lambda-promtail used the clock, which breaks Loki's
 * deduplication of retried objects. A file without a header is read in the default format.
 */
import type { LogEntry } from "../types";
import { nthField } from "./fields";
import { fallbackEntry, lineFormat, LogFormat, ParseOptions } from "./format";

const DEFAULT_FIELDS = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status".split(" ");

/** Field names AWS documents (versions 2 to 8); used to tell a header from a record. */
const KNOWN_FIELDS = new Set([
  ...DEFAULT_FIELDS,
  "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr", "region", "az-id",
  "sublocation-type", "sublocation-id", "pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction", "traffic-path",
  "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id", "ecs-container-id",
  "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id",
  "reject-reason", "resource-id", "encryption-status",
]);

const FIELD_NAME = /^[a-z][a-z0-9-]*$/;

/** A header has only field-name-shaped tokens, at least one of them a documented name. */
export function isFlowLogHeader(line: string): boolean {
  const tokens = line.trim().split(/\s+/);
  return tokens.every((t) => FIELD_NAME.test(t)) && tokens.some((t) => KNOWN_FIELDS.has(t));
}

function createFlowParser(opts: ParseOptions) {
  let startField: number | undefined = DEFAULT_FIELDS.indexOf("start");
  let first = true;

  return (line: string): LogEntry | undefined => {
    if (first) {
      first = false;
      if (isFlowLogHeader(line)) {
        const index = line.trim().split(/\s+/).indexOf("start");
        startField = index === -1 ? undefined : index;
        return undefined;
      }
    }
    const start = startField === undefined ? undefined : nthField(line, startField);
    if (start !== undefined && start.length > 0 && start.length <= 12 && /^\d+$/.test(start)) {
      return { sec: Number(start), nsec: 0, line };
    }
    return fallbackEntry(line, opts.fallback);
  };
}

export const vpcFlowFormat: LogFormat = { parse: lineFormat(createFlowParser) };
