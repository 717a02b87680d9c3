/**
 * Builders for the events that announce S3 objects, in the shapes AWS documents: S3 event
 * notifications (direct, in SQS bodies, in SNS messages), SNS envelopes and EventBridge
 * "Object Created" events.
 */
import { encodeNotificationKey } from "../../handler/sources/s3-notification";

export const EVENT_TIME = "2024-06-01T12:00:00.123Z";
/** EVENT_TIME as an entry timestamp: what lines without a time of their own are stamped with. */
export const EVENT_TIMESTAMP = { sec: Math.floor(Date.parse(EVENT_TIME) / 1000), nsec: 123_000_000 };

/** Encodes a key the way S3 notifications do: form encoding (`+` for space), `/` kept. */
export const notificationKey = encodeNotificationKey;

export function s3Record(bucket: string, key: string, overrides: { eventName?: string; eventTime?: string; region?: string; rawKey?: string } = {}) {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: overrides.region ?? "us-east-1",
    eventTime: overrides.eventTime ?? EVENT_TIME,
    eventName: overrides.eventName ?? "ObjectCreated:Put",
    userIdentity: { principalId: "AWS:AIDAEXAMPLE" },
    requestParameters: { sourceIPAddress: "127.0.0.1" },
    responseElements: { "x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD" },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "lambda-promtail",
      bucket: { name: bucket, ownerIdentity: { principalId: "A3NL1KOZZKExample" }, arn: `arn:aws:s3:::${bucket}` },
      object: { key: overrides.rawKey ?? notificationKey(key), size: 1024, eTag: "d41d8cd98f00b204e9800998ecf8427e", sequencer: "0055AED6DCD90281E5" },
    },
  };
}

export function s3Notification(...records: ReturnType<typeof s3Record>[]) {
  return { Records: records };
}

export const S3_TEST_EVENT = {
  Service: "Amazon S3",
  Event: "s3:TestEvent",
  Time: "2024-06-01T12:00:00.000Z",
  Bucket: "logs",
  RequestId: "5582815E1AEA5ADF",
  HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
};

export function snsEnvelope(message: unknown, messageId = "95df01b4-ee98-5cb9-9903-4c221d41eb5e") {
  return {
    Type: "Notification",
    MessageId: messageId,
    TopicArn: "arn:aws:sns:us-east-1:123456789012:s3-logs",
    Subject: "Amazon S3 Notification",
    Message: typeof message === "string" ? message : JSON.stringify(message),
    Timestamp: "2024-06-01T12:00:01.000Z",
    SignatureVersion: "1",
    Signature: "EXAMPLE",
    SigningCertUrl: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
    UnsubscribeUrl: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
  };
}

export function snsEvent(...messages: { message: unknown; id?: string }[]) {
  return {
    Records: messages.map(({ message, id }, i) => ({
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:aws:sns:us-east-1:123456789012:s3-logs:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
      Sns: { ...snsEnvelope(message, id ?? `sns-${i}`), MessageAttributes: {} },
    })),
  };
}

export function eventBridgeEvent(bucket: string, key: string, overrides: Record<string, unknown> = {}) {
  return {
    version: "0",
    id: "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    source: "aws.s3",
    account: "111122223333",
    time: "2024-06-01T12:00:00Z",
    region: "us-east-1",
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: "0",
      bucket: { name: bucket },
      object: { key, size: 1024, etag: "b1946ac92492d2347c6235b4d2611184", sequencer: "617f08299329d189" },
      "request-id": "N4N7GDK58NMKJ12R",
      requester: "123456789012",
      "source-ip-address": "1.2.3.4",
      reason: "PutObject",
    },
    ...overrides,
  };
}

export function sqsMessage(messageId: string, body: unknown) {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: typeof body === "string" ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "1717243200000",
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: "1717243200001",
    },
    messageAttributes: {},
    md5OfBody: "00000000000000000000000000000000",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:s3-logs",
    awsRegion: "us-east-1",
  };
}

export function sqsEvent(...messages: ReturnType<typeof sqsMessage>[]) {
  return { Records: messages };
}
