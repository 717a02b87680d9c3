/**
 * The whole deployment as one component: the shipper and every configured source. Inputs are
 * validated first (settings by `parseStackSettings`, the code here), then children are declared
 * in dependency order: queues, then the role (granted on them) and the function, then the
 * sources that invoke or feed it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { planAlarms, sourceKindsOf } from "./alarmPlan";
import { alarmActions, declareAlarms } from "./alarms";
import { configuredLogGroupArn, declareLogGroupSubscriptions, LogGroupSubscription } from "./cloudwatchLogs";
import { DeployContext, lookupTarget } from "./context";
import { configuredStreamArn, declareKinesisMappings } from "./kinesis";
import { bucketObjectsArn } from "./policies";
import { declareDeadLetterQueue } from "./queues";
import { declareDirectBuckets, DirectBucket } from "./s3Direct";
import { declareEventBridgeBuckets, EventBridgeDelivery } from "./s3EventBridge";
import { declareS3Queue, S3Queue, S3QueueWiring, wireS3Queue } from "./s3Sqs";
import { BucketSource, ShipperStackSettings } from "./settings";
import { declareShipper, resolveCode, Shipper, ShipperGrants } from "./shipper";

export const COMPONENT_TYPE = "lambda-promtail:index:LambdaPromtail";

/** Asynchronous invocations (CloudWatch Logs, S3 direct, EventBridge): bounded retries, then the dead-letter queue. */
export const ASYNC_INVOKE = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 6 * 3600 };

export interface LambdaPromtailArgs {
  /** Validated settings, from `parseStackSettings`. */
  settings: ShipperStackSettings;
  /** Directory that relative paths (Dockerfile, zip bundle) resolve against. Default: the working directory. */
  projectDir?: string;
}

export class LambdaPromtail extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  /** The image the function runs; absent for a zip package. */
  readonly imageUri?: pulumi.Output<string>;
  /** URL of the S3 event queue (sqs delivery), if any. */
  readonly queueUrl?: pulumi.Output<string>;
  /** URL of the dead-letter queue, if any source needs one. */
  readonly deadLetterQueueUrl?: pulumi.Output<string>;
  /** ARNs of the EventBridge rules (eventbridge delivery). */
  readonly ruleArns: pulumi.Output<string[]>;

  readonly shipper: Shipper;
  readonly deadLetterQueue?: aws.sqs.Queue;
  readonly s3Queue?: S3Queue & S3QueueWiring;
  readonly logGroupSubscriptions: LogGroupSubscription[];
  readonly directBuckets: DirectBucket[];
  readonly eventBridge?: EventBridgeDelivery;
  readonly kinesisMappings: aws.lambda.EventSourceMapping[];
  readonly asyncInvokeConfig?: aws.lambda.FunctionEventInvokeConfig;
  /** The CloudWatch alarms by id (dead-letter, errors, …), when the stack asks for them. */
  readonly alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};

  constructor(name: string, args: LambdaPromtailArgs, opts?: pulumi.ComponentResourceOptions) {
    // The settings are not passed as the component's inputs: they hold plaintext credentials.
    super(COMPONENT_TYPE, name, {}, opts);
    const { settings } = args;

    // Validate before declaring anything.
    const actions = settings.alarms?.topicArn ? alarmActions("alarms.topicArn", settings.alarms.topicArn, this) : undefined;
    const code = resolveCode(settings.code, args.projectDir ?? process.cwd(), settings.architecture, (message) => pulumi.log.warn(message, this));

    const ctx: DeployContext = { name, parent: this, tags: settings.tags, target: lookupTarget(this) };
    const byDelivery = (d: BucketSource["delivery"]): BucketSource[] => settings.buckets.filter((b) => b.delivery === d);
    const direct = byDelivery("direct");
    const viaSqs = byDelivery("sqs");
    const viaEventBridge = byDelivery("eventbridge");
    const asyncSources = settings.logGroups.length + direct.length + viaEventBridge.length > 0;
    const sendsToDeadLetter = asyncSources || settings.kinesisStreams.length > 0;

    // Queues first: the role is granted on them.
    const deadLetter = sendsToDeadLetter || viaSqs.length > 0 ? declareDeadLetterQueue(ctx) : undefined;
    const s3Queue = viaSqs.length > 0 && deadLetter ? declareS3Queue(ctx, settings, deadLetter) : undefined;

    const grants: ShipperGrants = {
      bucketObjectArns: settings.buckets.map((b) => ctx.target.partition.apply((p) => bucketObjectsArn(p, b.name, b.prefix))),
      kinesisStreamArns: settings.kinesisStreams.map((s) => configuredStreamArn(ctx, s)),
      consumeQueueArn: s3Queue?.queue.arn,
      deadLetterQueueArn: sendsToDeadLetter ? deadLetter?.arn : undefined,
      tagLogGroupArns: settings.shipper.tagLabels.length > 0 ? settings.logGroups.map((g) => configuredLogGroupArn(ctx, g)) : [],
      sourceKeys: [
        ...settings.buckets.flatMap((b) => (b.kmsKeyArn ? [{ keyArn: b.kmsKeyArn, service: "s3" as const }] : [])),
        ...settings.kinesisStreams.flatMap((s) => (s.kmsKeyArn ? [{ keyArn: s.kmsKeyArn, service: "kinesis" as const }] : [])),
      ],
    };
    const shipper = declareShipper(ctx, settings, code, grants);
    const fn = shipper.function;

    if (asyncSources && deadLetter) {
      this.asyncInvokeConfig = new aws.lambda.FunctionEventInvokeConfig(
        `${name}-async`,
        { functionName: fn.name, ...ASYNC_INVOKE, destinationConfig: { onFailure: { destination: deadLetter.arn } } },
        { parent: this },
      );
    }

    this.logGroupSubscriptions = declareLogGroupSubscriptions(ctx, fn, settings.logGroups);
    this.directBuckets = declareDirectBuckets(ctx, fn, direct);
    if (s3Queue) this.s3Queue = { ...s3Queue, ...wireS3Queue(ctx, settings, s3Queue, fn, viaSqs) };
    if (viaEventBridge.length > 0 && deadLetter) this.eventBridge = declareEventBridgeBuckets(ctx, fn, viaEventBridge, deadLetter);
    this.kinesisMappings = deadLetter ? declareKinesisMappings(ctx, fn, settings.kinesisStreams, deadLetter) : [];

    if (settings.alarms) {
      const metricsOn = settings.shipper.metrics;
      if (!metricsOn) pulumi.log.warn("alarms: metrics is false, so the alarms on the shipper's own metrics (failed records, rejected entries, delivery lag) are not created", this);
      const deployment = {
        sourceKinds: sourceKindsOf(settings),
        kinesisStreams: settings.kinesisStreams.map((s) => s.name),
        asyncSources,
        s3EventQueue: s3Queue !== undefined,
        ...(metricsOn ? { metricsNamespace: settings.shipper.metricsNamespace } : {}),
        ...(settings.reservedConcurrency !== undefined ? { reservedConcurrency: settings.reservedConcurrency } : {}),
      };
      const targets = {
        functionName: fn.name,
        logGroupName: shipper.logGroup.name,
        ...(deadLetter ? { deadLetterQueue: { name: deadLetter.name, arn: deadLetter.arn, url: deadLetter.url } } : {}),
      };
      this.alarms = declareAlarms(ctx, planAlarms(deployment, settings.alarms.thresholds, targets), targets, actions);
    }

    this.shipper = shipper;
    this.deadLetterQueue = deadLetter;
    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.roleArn = shipper.role.arn;
    this.logGroupName = shipper.logGroup.name;
    this.imageUri = shipper.imageUri;
    this.queueUrl = s3Queue?.queue.url;
    this.deadLetterQueueUrl = deadLetter?.url;
    this.ruleArns = this.eventBridge ? pulumi.all([this.eventBridge.rule.arn]) : pulumi.output([]);

    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      roleArn: this.roleArn,
      logGroupName: this.logGroupName,
      imageUri: this.imageUri,
      queueUrl: this.queueUrl,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      ruleArns: this.ruleArns,
    });
  }
}
