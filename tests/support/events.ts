/** Builders for recorded-looking Lambda events, from AWS's documented shapes. */
import { gzipSync } from "node:zlib";
import { parseShipperConfig, ShipperConfig } from "../../handler/config";
import { InvocationDeadline } from "../../handler/deadline";
import type { SourceContext } from "../../handler/sources/context";
import type { EntryGroup, Log, LogEntry, SourceRecord } from "../../handler/types";

export interface CwEvent { id?: string; timestamp: number; message: string }

export function cloudWatchPayload(logGroup: string, events: CwEvent[], overrides: Record<string, unknown> = {}) {
  return {
    messageType: "DATA_MESSAGE",
    owner: "123456789012",
    logGroup,
    logStream: "2025/11/22/[$LATEST]abcdef0123456789",
    subscriptionFilters: ["lambda-promtail"],
    logEvents: events.map((e, i) => ({ id: e.id ?? `3800000000000000000000000000000000000000000000000000000${i}`, timestamp: e.timestamp, message: e.message })),
    ...overrides,
  };
}

export function gzipBase64(value: unknown): string {
  return gzipSync(Buffer.from(typeof value === "string" ? value : JSON.stringify(value))).toString("base64");
}

export function cloudWatchEvent(payload: unknown) {
  return { awslogs: { data: gzipBase64(payload) } };
}

export const KINESIS_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/logs";

export function kinesisRecord(seq: string, data: string, arrivalSeconds = 1763798400.5, partitionKey = "pk-1") {
  return {
    kinesis: { kinesisSchemaVersion: "1.0", partitionKey, sequenceNumber: seq, data, approximateArrivalTimestamp: arrivalSeconds },
    eventSource: "aws:kinesis", eventVersion: "1.0", eventID: `shardId-000000000003:${seq}`, eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn:aws:iam::123456789012:role/lp", awsRegion: "eu-west-1", eventSourceARN: KINESIS_ARN,
  };
}

export function kinesisEvent(...records: ReturnType<typeof kinesisRecord>[]) {
  return { Records: records };
}

/** A logger that keeps what it was told, for assertions, and prints nothing. */
export class MemoryLog implements Log {
  readonly lines: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  debug(message: string, attributes?: Record<string, unknown>) { this.lines.push({ level: "debug", message, attributes }); }
  info(message: string, attributes?: Record<string, unknown>) { this.lines.push({ level: "info", message, attributes }); }
  warn(message: string, attributes?: Record<string, unknown>) { this.lines.push({ level: "warn", message, attributes }); }
  error(message: string, attributes?: Record<string, unknown>) { this.lines.push({ level: "error", message, attributes }); }
  messages(level: string): string[] { return this.lines.filter((l) => l.level === level).map((l) => l.message); }
}

export function sourceContext(env: Record<string, string> = {}): SourceContext & { config: ShipperConfig; log: MemoryLog } {
  return { config: parseShipperConfig({ WRITE_ADDRESS: "http://127.0.0.1:1/loki/api/v1/push", ...env }), log: new MemoryLog(), deadline: InvocationDeadline.in(60_000) };
}

/** A group's entries in one array, whether the source gave an array or a stream of arrays. */
export async function entriesOf(group: EntryGroup): Promise<LogEntry[]> {
  if (Symbol.iterator in group.entries) return [...group.entries];
  const entries: LogEntry[] = [];
  for await (const batch of group.entries) entries.push(...batch);
  return entries;
}

/** Reads a record completely: its groups with their entries materialised. */
export async function drain(record: SourceRecord): Promise<(Omit<EntryGroup, "entries"> & { entries: LogEntry[] })[]> {
  const out: (Omit<EntryGroup, "entries"> & { entries: LogEntry[] })[] = [];
  for await (const group of record.groups()) out.push({ ...group, entries: await entriesOf(group) });
  return out;
}

/** Resolves to the error `promise` rejects with; fails the test when it resolves. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}
