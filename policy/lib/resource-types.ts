/**
 * Type tokens of the AWS resources the pack reads. Compared as strings rather than through
 * `@pulumi/aws` classes, so the pack does not load the AWS provider SDK (seconds of start-up)
 * and works whatever provider version the stack uses.
 */
export const TYPES = {
  function: "aws:lambda/function:Function",
  eventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  functionEventInvokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  permission: "aws:lambda/permission:Permission",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  subscriptionFilter: "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  bucketNotification: "aws:s3/bucketNotification:BucketNotification",
  topicSubscription: "aws:sns/topicSubscription:TopicSubscription",
  queue: "aws:sqs/queue:Queue",
  redrivePolicy: "aws:sqs/redrivePolicy:RedrivePolicy",
  kinesisStream: "aws:kinesis/stream:Stream",
} as const;
