/**
 * Telemetry API events -> log entries. Pure: no I/O, no clock.
 *
 * Event shapes follow AWS's "Lambda Telemetry API Event schema reference" (schema 2022-12-13):
 * every event is `{time, type, record}`.
 *  - `function` / `extension`: `record` is the line as a string (text log format, with its
 *    trailing newline, which is stripped) or an object (JSON log format: `timestamp`, `level`,
 *    `requestId`, `message`, …), shipped as its JSON serialisation.
 *  - `platform.*`: turned into the readable lines CloudWatch shows (`START RequestId: …`,
 *    `END RequestId: …`, `REPORT RequestId: …	Duration: …`); types without a known layout
 *    become `<type> <record as JSON>`.
 * The entry's timestamp is the event's `time` (for a JSON function record without a valid
 * `time`, its own `timestamp`), never the clock; an event with neither is invalid and counted.
 */
import { parseIsoTimestamp, type Timestamp } from "../handler/parsers/time";
import type { LogEntry, Metadata } from "../handler/types";
import type { TelemetryType } from "./config";

export interface TelemetryEvent {
  time?: unknown;
  type?: unknown;
  record?: unknown;
}

/** What one event turned into. */
export type Converted =
  | { kind: "entry"; entry: LogEntry; type: TelemetryType }
  | { kind: "skip" }
  | { kind: "invalid"; reason: string };

/** Platform facts the lifecycle needs, noticed while converting. */
export interface PlatformSignals {
  onRuntimeDone?(requestId: string): void;
  onLogsDropped?(records: number, bytes: number, reason: string): void;
}

export interface ConverterOptions {
  /** Types shipped; events of other types are read for their signals and skipped. */
  shipTypes: ReadonlySet<TelemetryType>;
  /** STRUCTURED_METADATA fields wanted (lambda_request_id, level). */
  metadata: readonly string[];
  signals?: PlatformSignals;
}

/**
 * Converts events in the order Lambda delivered them. It remembers the request in progress
 * (between `platform.start` and `platform.runtimeDone`) to give text-format lines their request
 * id, and spreads entries that share one millisecond over distinct nanoseconds in arrival order,
 * so that Loki neither merges two identical lines written in the same millisecond nor reorders them.
 */
export class RecordConverter {
  private readonly wantRequestId: boolean;
  private readonly wantLevel: boolean;
  private currentRequestId: string | undefined;
  private lastSec = NaN;
  private lastNsec = NaN;
  private ties = 0;

  constructor(private readonly options: ConverterOptions) {
    this.wantRequestId = options.metadata.includes("lambda_request_id");
    this.wantLevel = options.metadata.includes("level");
  }

  /** `event`: one element of a POSTed array, whatever it holds (Lambda sends objects; nothing else may stop the batch). */
  convert(event: unknown): Converted {
    if (!isTelemetryEvent(event)) return { kind: "invalid", reason: `an event must be a JSON object, got ${describeValue(event)}` };
    const type = event.type;
    if (typeof type !== "string") return { kind: "invalid", reason: "the event has no type" };
    if (type === "function" || type === "extension") return this.logLine(event, type);
    if (type.startsWith("platform.")) return this.platform(event, type);
    return { kind: "invalid", reason: `unknown event type ${JSON.stringify(type).slice(0, 100)}` };
  }

  private logLine(event: TelemetryEvent, type: "function" | "extension"): Converted {
    const record = event.record;
    let line: string;
    let requestId = type === "function" ? this.currentRequestId : undefined;
    let level: string | undefined;
    let fallbackTime: unknown;
    if (typeof record === "string") {
      line = stripTrailingNewline(record);
    } else if (typeof record === "object" && record !== null && !Array.isArray(record)) {
      line = JSON.stringify(record);
      const fields = record as Record<string, unknown>;
      if (typeof fields.requestId === "string") requestId = fields.requestId;
      if (typeof fields.level === "string") level = fields.level;
      fallbackTime = fields.timestamp;
    } else {
      return { kind: "invalid", reason: `a ${type} record must be a string or an object` };
    }
    if (!this.options.shipTypes.has(type)) return { kind: "skip" };
    const time = eventTime(event.time) ?? eventTime(fallbackTime);
    if (time === undefined) return { kind: "invalid", reason: `invalid time ${JSON.stringify(event.time)?.slice(0, 60)}` };
    let metadata: Metadata | undefined;
    if (this.wantRequestId && requestId !== undefined && requestId !== "") (metadata ??= {}).lambda_request_id = requestId;
    if (this.wantLevel && level !== undefined && level !== "") (metadata ??= {}).level = level;
    return { kind: "entry", entry: this.entry(time, line, metadata), type };
  }

  private platform(event: TelemetryEvent, type: string): Converted {
    const record = (typeof event.record === "object" && event.record !== null ? event.record : {}) as Record<string, unknown>;
    const requestId = typeof record.requestId === "string" ? record.requestId : undefined;
    if (type === "platform.start") {
      this.currentRequestId = requestId;
    } else if (type === "platform.runtimeDone") {
      if (requestId !== undefined) this.options.signals?.onRuntimeDone?.(requestId);
      if (this.currentRequestId === requestId) this.currentRequestId = undefined;
    } else if (type === "platform.logsDropped") {
      this.options.signals?.onLogsDropped?.(count(record.droppedRecords) ?? 0, count(record.droppedBytes) ?? 0, str(record.reason) ?? "");
    }
    if (!this.options.shipTypes.has("platform")) return { kind: "skip" };
    const time = eventTime(event.time);
    if (time === undefined) return { kind: "invalid", reason: `invalid time ${JSON.stringify(event.time)?.slice(0, 60)}` };
    const line = formatPlatformRecord(type, record);
    let metadata: Metadata | undefined;
    if (this.wantRequestId && requestId !== undefined) metadata = { lambda_request_id: requestId };
    return { kind: "entry", entry: this.entry(time, line, metadata), type: "platform" };
  }

  private entry(time: Timestamp, line: string, metadata: Metadata | undefined): LogEntry {
    let { sec, nsec } = time;
    if (sec === this.lastSec && nsec === this.lastNsec) {
      // Same instant as the previous entry: 1 ns later per tie, within the same millisecond.
      if (this.ties < 999_999) this.ties++;
    } else {
      this.lastSec = sec;
      this.lastNsec = nsec;
      this.ties = 0;
    }
    nsec += this.ties;
    if (nsec > 999_999_999) {
      sec += 1;
      nsec -= 1_000_000_000;
    }
    return metadata === undefined ? { sec, nsec, line } : { sec, nsec, line, metadata };
  }
}

/** Whether a POSTed array element is an object, as every Telemetry API event is: `null`, a number, a string or an array is not. */
export function isTelemetryEvent(value: unknown): value is TelemetryEvent {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function stripTrailingNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  if (text.endsWith("\n")) return text.slice(0, -1);
  return text;
}

/** An RFC 3339 time as Lambda writes it ("2022-10-12T00:03:50.000Z"); undefined unless it is one, with fields in range. */
export function eventTime(value: unknown): Timestamp | undefined {
  if (typeof value !== "string" || value.length > 40) return undefined;
  // Lambda's own shape, stricter than parseIsoTimestamp's (which also checks the calendar and the zone).
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  return parseIsoTimestamp(value);
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A count Lambda reports (dropped records or bytes): a whole number from 0; anything else counts nothing. */
function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function ms(value: unknown): string | undefined {
  const n = num(value);
  return n === undefined ? undefined : `${n.toFixed(2)} ms`;
}

/** `name: value` pairs joined as CloudWatch joins them, leaving out absent values. */
function fields(separator: string, pairs: [string, string | undefined][]): string {
  return pairs.filter(([, value]) => value !== undefined && value !== "").map(([name, value]) => `${name}: ${value}`).join(separator);
}

function statusFields(record: Record<string, unknown>): [string, string | undefined][] {
  const status = str(record.status);
  if (status === undefined || status === "success") return [];
  return [["Status", status], ["Error Type", str(record.errorType)]];
}

/** The readable line of a platform event: CloudWatch's layout where it has one. */
export function formatPlatformRecord(type: string, record: Record<string, unknown>): string {
  const metrics = (typeof record.metrics === "object" && record.metrics !== null ? record.metrics : {}) as Record<string, unknown>;
  const list = (value: unknown) => (Array.isArray(value) ? `[${value.map(String).join(",")}]` : undefined);
  switch (type) {
    case "platform.initStart":
    case "platform.restoreStart":
      return `${type === "platform.initStart" ? "INIT_START" : "RESTORE_START"} ${fields("\t", [["Runtime Version", str(record.runtimeVersion)], ["Runtime Version ARN", str(record.runtimeVersionArn)]])}`.trimEnd();
    case "platform.initRuntimeDone":
    case "platform.restoreRuntimeDone":
      return `${type === "platform.initRuntimeDone" ? "INIT_RUNTIME_DONE" : "RESTORE_RUNTIME_DONE"} ${fields("\t", [["Status", str(record.status)], ["Error Type", str(record.errorType)]])}`.trimEnd();
    case "platform.initReport":
      return `INIT_REPORT ${fields("\t", [["Init Duration", ms(metrics.durationMs)], ["Phase", str(record.phase)], ["Status", str(record.status)], ["Error Type", str(record.errorType)]])}`.trimEnd();
    case "platform.restoreReport":
      return `RESTORE_REPORT ${fields("\t", [["Restore Duration", ms(metrics.durationMs)], ...statusFields(record)])}`.trimEnd();
    case "platform.start":
      return `START ${fields(" ", [["RequestId", str(record.requestId)], ["Version", str(record.version)]])}`.trimEnd();
    case "platform.runtimeDone":
      return `END ${fields(" ", [["RequestId", str(record.requestId)], ...statusFields(record)])}`.trimEnd();
    case "platform.report": {
      const whole = (value: unknown, unit: string) => (num(value) === undefined ? undefined : `${num(value)} ${unit}`);
      return `REPORT ${fields("\t", [
        ["RequestId", str(record.requestId)],
        ["Duration", ms(metrics.durationMs)],
        ["Billed Duration", whole(metrics.billedDurationMs, "ms")],
        ["Memory Size", whole(metrics.memorySizeMB, "MB")],
        ["Max Memory Used", whole(metrics.maxMemoryUsedMB, "MB")],
        ["Init Duration", ms(metrics.initDurationMs)],
        ["Restore Duration", ms(metrics.restoreDurationMs)],
        ...statusFields(record),
      ])}`.trimEnd();
    }
    case "platform.extension":
      return `EXTENSION ${fields(" ", [["Name", str(record.name)], ["State", str(record.state)], ["Events", list(record.events)], ["Error Type", str(record.errorType)]])}`.trimEnd();
    case "platform.telemetrySubscription":
      return `TELEMETRY ${fields(" ", [["Name", str(record.name)], ["State", str(record.state)], ["Types", list(record.types)]])}`.trimEnd();
    case "platform.logsDropped":
      return `LOGS_DROPPED ${fields(" ", [["DroppedRecords", String(num(record.droppedRecords) ?? "")], ["DroppedBytes", String(num(record.droppedBytes) ?? "")], ["Reason", str(record.reason)]])}`.trimEnd();
    default:
      return `${type} ${JSON.stringify(record)}`;
  }
}
