/**
 * The ways AWS announces a new S3 object, reduced to object references. Pure: no I/O.
 *
 * - S3 event notification: `{"Records":[{"eventSource":"aws:s3","eventTime":…,"s3":{…}}]}`,
 *   delivered to Lambda directly, as an SQS message body, or as an SNS message.
 * - SNS notification envelope around one (SNS -> SQS without raw message delivery).
 * - EventBridge "Object Created" event from `aws.s3` (directly or as an SQS message body).
 * - The `s3:TestEvent` S3 sends when a notification is configured: nothing to read.
 *
 * Keys in S3 notifications are URL-encoded with `+` for spaces ("red flower.jpg" arrives as
 * "red+flower.jpg") and are decoded here. EventBridge keys are documented by example only and
 * observed unencoded: they are used as they come, and the form-decoded key is kept as a second
 * choice, tried only if the first does not exist (S3 answers NoSuchKey, or AccessDenied when the
 * role may not s3:ListBucket, as the role this program deploys).
 */
import { BadRecordError, Log } from "../types";
import { isObject } from "./detect";

export interface S3ObjectRef {
  bucket: string;
  /** The real key (decoded). */
  key: string;
  region?: string;
  /** ISO-8601 time of the event: the timestamp of lines that carry none. */
  eventTime?: string;
  /** Key to try when `key` does not exist (EventBridge: the form-decoded key). */
  alternateKey?: string;
  /**
   * The version the event announced, in a bucket with versioning (`s3.object.versionId`,
   * EventBridge `detail.object.version-id`): that version is read, not whatever the key holds
   * when the event is handled (or retried, or redriven days later).
   */
  versionId?: string;
}

type Json = Record<string, unknown>;

/** Notification events that announce an object to read; others (deletions, tagging…) are ignored. */
const READABLE_EVENT = /^(?:s3:)?(?:ObjectCreated:|ObjectRestore:Completed)/;

/** S3 notification (`Records`) or test event -> object references. Throws BadRecordError on anything else. */
export function refsFromS3Notification(event: unknown, what: string, log: Log): S3ObjectRef[] {
  if (isS3TestEvent(event)) return [];
  if (!isObject(event) || !Array.isArray(event.Records)) {
    throw new BadRecordError(`${what} is not an S3 event notification (no Records)`);
  }
  const refs: S3ObjectRef[] = [];
  for (const [i, record] of event.Records.entries()) {
    const ref = refFromS3Record(record, `${what} record ${i}`, log);
    if (ref) refs.push(ref);
  }
  return refs;
}

export function isS3TestEvent(event: unknown): boolean {
  return isObject(event) && event.Event === "s3:TestEvent";
}

function refFromS3Record(record: unknown, what: string, log: Log): S3ObjectRef | undefined {
  if (!isObject(record) || record.eventSource !== "aws:s3" || !isObject(record.s3)) {
    throw new BadRecordError(`${what} is not an S3 event record (eventSource ${JSON.stringify(isObject(record) ? record.eventSource : undefined)})`);
  }
  const bucket = isObject(record.s3.bucket) ? record.s3.bucket.name : undefined;
  const rawKey = isObject(record.s3.object) ? record.s3.object.key : undefined;
  if (typeof bucket !== "string" || bucket === "" || typeof rawKey !== "string" || rawKey === "") {
    throw new BadRecordError(`${what} has no s3.bucket.name or s3.object.key`);
  }
  const key = decodeNotificationKey(rawKey, what);
  const eventName = typeof record.eventName === "string" ? record.eventName : "";
  if (!READABLE_EVENT.test(eventName)) {
    log.warn("ignoring S3 event that does not create an object", { object: `s3://${bucket}/${key}`, eventName });
    return undefined;
  }
  const ref: S3ObjectRef = {
    bucket,
    key,
    region: typeof record.awsRegion === "string" && record.awsRegion !== "" ? record.awsRegion : undefined,
    eventTime: typeof record.eventTime === "string" ? record.eventTime : undefined,
  };
  const versionId = isObject(record.s3.object) ? record.s3.object.versionId : undefined;
  if (typeof versionId === "string" && versionId !== "") ref.versionId = versionId;
  return ref;
}

/** `my+prefix/a%2Bb.log` -> `my prefix/a+b.log` (form encoding, like Go's url.QueryUnescape). */
export function decodeNotificationKey(raw: string, what = "S3 event"): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    throw new BadRecordError(`${what}: object key ${JSON.stringify(raw)} is not valid URL encoding`);
  }
}

/**
 * A key (or key prefix, suffix) as S3 notifications write it: form encoding, `+` for a space,
 * `/` kept (`AWSLogs/aws-account-id=1/a b` -> `AWSLogs/aws-account-id%3D1/a+b`). The inverse of
 * decodeNotificationKey. A notification's prefix and suffix filters are matched against this
 * form: a filter with `=`, a space or another special character written as is never matches.
 */
export function encodeNotificationKey(key: string): string {
  return key.split("/").map((part) => encodeURIComponent(part).replace(/%20/g, "+")).join("/");
}

/** A best-effort readable key for log lines; never throws. */
export function displayKey(raw: string): string {
  try {
    return decodeNotificationKey(raw);
  } catch {
    return raw;
  }
}

/** EventBridge event -> object reference, if it is an `aws.s3` "Object Created" event. */
export function refFromEventBridge(event: unknown, what: string): S3ObjectRef {
  if (!isObject(event) || event.source !== "aws.s3" || event["detail-type"] !== "Object Created") {
    const source = isObject(event) ? JSON.stringify(event.source) : "?";
    const type = isObject(event) ? JSON.stringify(event["detail-type"]) : "?";
    throw new BadRecordError(`${what}: EventBridge event from source ${source} with detail-type ${type} is not supported; only "Object Created" events from "aws.s3" are read`);
  }
  const detail = isObject(event.detail) ? event.detail : {};
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  const key = isObject(detail.object) ? detail.object.key : undefined;
  if (typeof bucket !== "string" || bucket === "" || typeof key !== "string" || key === "") {
    throw new BadRecordError(`${what}: EventBridge "Object Created" event has no detail.bucket.name or detail.object.key`);
  }
  const ref: S3ObjectRef = {
    bucket,
    key,
    region: typeof event.region === "string" && event.region !== "" ? event.region : undefined,
    eventTime: typeof event.time === "string" ? event.time : undefined,
  };
  const versionId = isObject(detail.object) ? detail.object["version-id"] : undefined;
  if (typeof versionId === "string" && versionId !== "") ref.versionId = versionId;
  const decoded = tryDecode(key);
  if (decoded !== undefined && decoded !== key) ref.alternateKey = decoded;
  return ref;
}

function tryDecode(key: string): string | undefined {
  try {
    return decodeNotificationKey(key);
  } catch {
    return undefined;
  }
}

/**
 * An SQS message body or SNS message: an S3 notification, an SNS envelope around one, or an
 * EventBridge event. Anything else is a BadRecordError naming `what` (the message).
 */
export function refsFromMessage(body: string, what: string, log: Log, depth = 0): S3ObjectRef[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRecordError(`${what}: body is not JSON; expected an S3 event notification, an SNS notification carrying one, or an EventBridge "Object Created" event`);
  }
  if (isS3TestEvent(parsed)) return [];
  if (isObject(parsed)) {
    if (Array.isArray(parsed.Records)) return refsFromS3Notification(parsed as Json, what, log);
    if (parsed.Type === "Notification" && typeof parsed.Message === "string" && depth === 0) {
      return refsFromMessage(parsed.Message, `${what} (SNS message ${String(parsed.MessageId ?? "?")})`, log, depth + 1);
    }
    if (typeof parsed["detail-type"] === "string" && "detail" in parsed) return [refFromEventBridge(parsed, what)];
  }
  throw new BadRecordError(`${what}: body is not an S3 event notification, an SNS notification carrying one, or an EventBridge "Object Created" event`);
}
