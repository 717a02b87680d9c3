/**
 * The SNS topic alarms notify (`alarms.topicArn` in the stack config, LokiExtension's
 * `alarms.topicArn`): its ARN's form, and its region. A CloudWatch alarm's actions can only
 * notify a topic of the alarm's own region, and the alarms are created in the stack's region:
 * a topic elsewhere would be refused when the alarm is created, after the rest of the stack,
 * so it is refused at preview instead.
 */
import { ConfigError } from "../handler/config";

const SNS_TOPIC_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):sns:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export const TOPIC_ARN_FORM = "an SNS topic ARN, arn:aws:sns:<region>:<account>:<topic>";

export interface TopicArn {
  arn: string;
  partition: string;
  region: string;
}

/** Whether `value` has the form of an SNS topic ARN. */
export function isTopicArn(value: string): boolean {
  return SNS_TOPIC_ARN.test(value);
}

/** `value` as a topic ARN, trimmed; throws ConfigError naming `setting` when it is not one. */
export function parseTopicArn(setting: string, value: unknown): TopicArn {
  const arn = typeof value === "string" ? value.trim() : "";
  const match = SNS_TOPIC_ARN.exec(arn);
  if (!match) throw new ConfigError(setting, `${JSON.stringify(value)} is not an SNS topic ARN`, TOPIC_ARN_FORM);
  return { arn, partition: match[1], region: match[2] };
}

/** Throws ConfigError naming `setting` unless the topic is in `region`, where the alarms are created. */
export function checkTopicRegion(setting: string, topic: TopicArn, region: string): void {
  if (topic.region === region) return;
  throw new ConfigError(
    setting,
    `${topic.arn} is a topic in ${topic.region}, but the stack creates its alarms in ${region}, and a CloudWatch alarm can only notify an SNS topic of its own region`,
    `an SNS topic ARN in the stack's region, arn:${topic.partition}:sns:${region}:<account>:<topic> (or a topic of ${topic.region} subscribed to one there)`,
  );
}
