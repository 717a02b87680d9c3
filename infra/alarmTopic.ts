/**
 * The SNS topic alarms notify (`alarms.topicArn` in the stack config, LokiExtension's
 * `alarms.topicArn`): its ARN's form.
 */
import { ConfigError } from "../handler/config";

const SNS_TOPIC_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):sns:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export const TOPIC_ARN_FORM = "an SNS topic ARN, arn:aws:sns:<region>:<account>:<topic>";

export interface TopicArn {
  arn: string;
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
  return { arn, region: match[2] };
}
