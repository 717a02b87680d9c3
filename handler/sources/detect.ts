/**
 * Recognises what kind of event invoked the function, by shape only (no parsing of payloads),
 * so an unknown event is reported once with a clear message instead of half-processed.
 */
import type { EventKind } from "../types";

type Json = Record<string, unknown>;

const RECORD_SOURCES: Record<string, EventKind> = {
  "aws:kinesis": "kinesis",
  "aws:sqs": "sqs",
  "aws:s3": "s3",
  "aws:sns": "sns",
};

export function detectEvent(event: unknown): EventKind | undefined {
  if (!isObject(event)) return undefined;
  if (isObject(event.awslogs) && typeof event.awslogs.data === "string") return "cloudwatch";
  // The test event S3 sends when a notification is created has no Records.
  if (event.Event === "s3:TestEvent") return "s3";
  if (typeof event["detail-type"] === "string" && typeof event.source === "string" && "detail" in event) return "eventbridge";
  if (Array.isArray(event.Records) && event.Records.length > 0 && isObject(event.Records[0])) {
    const first = event.Records[0];
    const source = first.eventSource ?? first.EventSource;
    if (typeof source === "string") return RECORD_SOURCES[source];
  }
  return undefined;
}

/** A short description of an unrecognised event for the error log: its top-level keys, never its content. */
export function describeUnknownEvent(event: unknown): string {
  if (!isObject(event)) return `a ${event === null ? "null" : typeof event} value`;
  const keys = Object.keys(event).slice(0, 10);
  return `an object with keys [${keys.join(", ")}]`;
}

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
