/**
 * Which CloudWatch alarms a deployment gets, as plain descriptions: pure, so that every alarm's
 * metric, dimensions, threshold and evaluation can be checked in a table without Pulumi.
 * infra/alarms.ts turns them into aws.cloudwatch.MetricAlarm resources.
 *
 * The descriptions are the operator's runbook: what the alarm means and what to do, with the
 * deployment's own names, ARNs and commands filled in (CloudWatch caps them at 1024 characters).
 */
import { SERVICE_DIMENSION, SHIPPER_METRICS, SOURCE_KIND_DIMENSION } from "../handler/metrics";
import type { EventKind } from "../handler/types";
import { AlarmThresholds, BucketSource, ShipperStackSettings } from "./settings";

/** The names of what the alarms watch. V is a plain string in tests, a Pulumi output in the program. */
export interface AlarmTargets<V> {
  functionName: V;
  /** The function's own log group: where the operator reads why. */
  logGroupName: V;
  deadLetterQueue?: { name: V; arn: V; url: V };
}

/** What the deployment consists of, for choosing the alarms. */
export interface AlarmDeployment {
  /** The kinds of event the function receives: the `source_kind` dimension of its own metrics. */
  sourceKinds: EventKind[];
  /** Names of the Kinesis streams it reads. */
  kinesisStreams: string[];
  /** Sources invoking it asynchronously (CloudWatch Logs, S3 direct, EventBridge), whose failures go to the dead-letter queue. */
  asyncSources: boolean;
  /** sqs delivery: the S3 event queue moves poison messages to the dead-letter queue, and SQS's redrive can move them back. */
  s3EventQueue: boolean;
  /** The namespace of the shipper's own metrics; undefined when the stack turns them off (metrics: false). */
  metricsNamespace?: string;
  reservedConcurrency?: number;
}

export type Statistic = "Sum" | "Maximum" | "Minimum";
export type TreatMissingData = "notBreaching" | "breaching" | "ignore" | "missing";

/** One alarm, as aws.cloudwatch.MetricAlarm takes it. K: the names of its plan's thresholds. */
export interface AlarmSpec<V, K extends string = keyof AlarmThresholds> {
  /** The end of the logical name `<component>-alarm-<id>`: dead-letter, errors, throttles, iterator-age, records-failed-<kind>, … */
  id: string;
  namespace: string;
  metricName: string;
  statistic: Statistic;
  dimensions: Record<string, V | string>;
  /** Seconds. */
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  /** The setting the threshold comes from (alarms.thresholds.<key>). */
  thresholdKey: K;
  /** In the metric's unit (milliseconds for ages). */
  threshold: number;
  comparisonOperator: "GreaterThanOrEqualToThreshold";
  treatMissingData: TreatMissingData;
  /** The alarm description, from the targets' resolved names. */
  describe(targets: AlarmTargets<string>): string;
}

/** CloudWatch's limit on alarmDescription. */
export const MAX_DESCRIPTION = 1024;
export const ALARM_PREFIX = "lambda-promtail";

export const FIVE_MINUTES = 300;
/**
 * Counts of failure are summed per 5 minutes. Errors, throttles and failed records alarm when
 * they come back in 2 of 3 periods: a single blip is retried by the event source and heals on its
 * own. A visible dead-lettered message or an entry Loki refused is data needing a person: 1 of 1.
 * Periods without data (nothing happened) are not breaching, except for the dead-letter queue,
 * whose metrics stop while it is idle, full or not: there missing data keeps the alarm's state.
 */
export const SUSTAINED = { period: FIVE_MINUTES, evaluationPeriods: 3, datapointsToAlarm: 2 };
export const AT_ONCE = { period: FIVE_MINUTES, evaluationPeriods: 1, datapointsToAlarm: 1 };
/**
 * Delivery lag alarms on the Minimum of DeliveryLagNewest, 3 of 3 periods: the freshest push of
 * each period, so a replayed old file or one late source does not alarm while live logs flow;
 * every push being late does.
 */
export const LAG_EVALUATION = { statistic: "Minimum" as const, period: FIVE_MINUTES, evaluationPeriods: 3, datapointsToAlarm: 3 };

/** The sources' event kinds, in the order the README lists them (the handler's detectEvent names them so). */
export function sourceKindsOf(settings: Pick<ShipperStackSettings, "logGroups" | "buckets" | "kinesisStreams">): EventKind[] {
  const delivered = (d: BucketSource["delivery"]): boolean => settings.buckets.some((b) => b.delivery === d);
  const kinds: [EventKind, boolean][] = [
    ["cloudwatch", settings.logGroups.length > 0],
    ["kinesis", settings.kinesisStreams.length > 0],
    ["s3", delivered("direct")],
    ["sqs", delivered("sqs")],
    ["eventbridge", delivered("eventbridge")],
  ];
  return kinds.filter(([, present]) => present).map(([kind]) => kind);
}

/** A metric the handler publishes, by name: fails loudly if handler/metrics.ts renames it. */
function shipperMetric(name: string): string {
  if (!SHIPPER_METRICS.some((m) => m.name === name)) throw new Error(`handler/metrics.ts publishes no metric ${name}`);
  return name;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * The alarms of a deployment: the dead-letter queue (when there is one) and Lambda's deliveries
 * to it (when Lambda sends it failed records), the function's errors and throttles, the iterator age of its Kinesis mappings (when it reads streams), and per source
 * kind its own failed records, rejected entries and delivery lag (when its metrics are on).
 */
export function planAlarms<V>(deployment: AlarmDeployment, thresholds: AlarmThresholds, targets: AlarmTargets<V>): AlarmSpec<V>[] {
  const alarms: AlarmSpec<V>[] = [];
  const lambda = { FunctionName: targets.functionName };
  const fnIntro = (t: AlarmTargets<string>): string => `${ALARM_PREFIX} ${t.functionName}`;

  if (targets.deadLetterQueue) {
    alarms.push({
      id: "dead-letter",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      statistic: "Maximum",
      dimensions: { QueueName: targets.deadLetterQueue.name },
      ...AT_ONCE,
      thresholdKey: "deadLetterMessages",
      threshold: thresholds.deadLetterMessages,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      // SQS publishes a queue's metrics only while it is active, up to six hours after the last
      // API call on it: a dead-letter queue holding messages nobody touches goes silent. Missing
      // data must keep the state (ALARM until a redrive or purge reports 0), not read as "empty"
      // (notBreaching would send OK hours later with the messages still there). A new queue is
      // active after its creation, so the alarm leaves INSUFFICIENT_DATA for OK at once.
      treatMissingData: "ignore",
      describe: (t) => {
        const q = t.deadLetterQueue as NonNullable<AlarmTargets<string>["deadLetterQueue"]>;
        const parts = [
          `${fnIntro(t)}: ${plural(thresholds.deadLetterMessages, "message")} or more in its dead-letter queue: logs not delivered after every retry.`,
          `First find and fix the cause in the log group ${t.logGroupName} ("record failed", "Loki push failed").`,
          `Inspect: aws sqs receive-message --queue-url ${q.url} --max-number-of-messages 10 --visibility-timeout 0.`,
        ];
        if (deployment.s3EventQueue) parts.push(`S3 event messages go back to their queue with SQS's redrive: console "Start DLQ redrive", or aws sqs start-message-move-task --source-arn ${q.arn}.`);
        const records = [deployment.kinesisStreams.length > 0 ? "Kinesis failure records (re-read the shard range they name)" : "", deployment.asyncSources ? "asynchronous-invocation records (re-invoke with their requestPayload)" : ""].filter((s) => s !== "");
        if (records.length > 0) parts.push(`${records.join(" and ")} are replayed by hand: README, Alarms.`);
        return parts.join(" ");
      },
    });
  }

  alarms.push({
    id: "errors",
    namespace: "AWS/Lambda",
    metricName: "Errors",
    statistic: "Sum",
    dimensions: lambda,
    ...SUSTAINED,
    thresholdKey: "errors",
    threshold: thresholds.errors,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
    describe: (t) =>
      `${fnIntro(t)}: ${plural(thresholds.errors, "invocation")} or more failed per 5 minutes, in 2 of the last 3 (AWS/Lambda Errors): the function threw, timed out or ran out of memory. ` +
      "Event sources retry, then the records are dead-lettered. " +
      `Read why in the log group ${t.logGroupName}: "configuration error" means the stack's settings are wrong (fix them, pulumi up); ` +
      "\"Task timed out\" or out of memory: raise timeout or memorySize.",
  });

  alarms.push({
    id: "throttles",
    namespace: "AWS/Lambda",
    metricName: "Throttles",
    statistic: "Sum",
    dimensions: lambda,
    ...SUSTAINED,
    thresholdKey: "throttles",
    threshold: thresholds.throttles,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
    describe: (t) =>
      `${fnIntro(t)}: ${plural(thresholds.throttles, "invocation")} or more throttled per 5 minutes, in 2 of the last 3 (AWS/Lambda Throttles): ` +
      `the function hit ${deployment.reservedConcurrency !== undefined ? `its reserved concurrency (${deployment.reservedConcurrency})` : "the account's concurrency limit"}. ` +
      "Events wait and are retried (asynchronous ones for up to 6 hours, then the dead-letter queue); Kinesis falls behind. " +
      "Raise reservedConcurrency or the account's quota, or make invocations shorter (larger batchSize, more memorySize).",
  });

  if (deployment.asyncSources || deployment.kinesisStreams.length > 0) {
    // Lambda itself sends what failed every retry to the dead-letter queue: the records of
    // asynchronous invocations and of Kinesis batches (their on-failure destinations). When it
    // cannot (the grant or the queue gone, a record over SQS's message size), they are lost and
    // the dead-letter alarm sees nothing; AWS/Lambda DestinationDeliveryFailures counts them.
    alarms.push({
      id: "dead-letter-delivery",
      namespace: "AWS/Lambda",
      metricName: "DestinationDeliveryFailures",
      statistic: "Sum",
      dimensions: lambda,
      ...AT_ONCE,
      thresholdKey: "deadLetterDeliveryFailures",
      threshold: thresholds.deadLetterDeliveryFailures,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      describe: (t) =>
        `${fnIntro(t)}: Lambda could not put ${plural(thresholds.deadLetterDeliveryFailures, "failed record")} or more into the dead-letter queue in 5 minutes (AWS/Lambda DestinationDeliveryFailures): ` +
        "they are lost, and the dead-letter alarm cannot see them. " +
        "Check that the function's role may still sqs:SendMessage to the queue and that the queue exists and is a standard queue; " +
        "a record larger than SQS's message size cannot be kept (asynchronous events up to 1 MB, Kinesis failure records are small).",
    });
  }

  if (deployment.kinesisStreams.length > 0) {
    // AWS/Lambda IteratorAge with the function's name: the age the Lambda event source mappings
    // report. The stream's own GetRecords.IteratorAgeMilliseconds counts every consumer of the
    // stream, not this function. One alarm per function, not per mapping: AWS documents no
    // EventSourceMappingUUID dimension for IteratorAge (its per-mapping metrics are the opt-in
    // MetricsConfig event counts; README, Alarms, quotes what the documentation says). Its
    // Maximum is the worst of the function's mappings, and Kinesis is its only stream source.
    alarms.push({
      id: "iterator-age",
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      statistic: "Maximum",
      dimensions: lambda,
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      thresholdKey: "iteratorAgeSeconds",
      threshold: thresholds.iteratorAgeSeconds * 1000,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      describe: (t) =>
        `${fnIntro(t)}: its Kinesis stream${deployment.kinesisStreams.length === 1 ? "" : "s"} ${deployment.kinesisStreams.join(", ")} ` +
        `${deployment.kinesisStreams.length === 1 ? "is" : "are"} read late: the last record of a batch was ${thresholds.iteratorAgeSeconds} s old or more for 5 minutes in a row (AWS/Lambda IteratorAge, Maximum). ` +
        "Records older than the stream's retention are lost. Look at the errors and throttles alarms first (a failing batch blocks its shard); " +
        "then raise the mapping's batchSize, the function's memorySize or the stream's shards; a slow Loki shows in the delivery-lag alarm.",
    });
  }

  const namespace = deployment.metricsNamespace;
  if (namespace !== undefined) {
    for (const kind of deployment.sourceKinds) {
      const own = { [SERVICE_DIMENSION]: targets.functionName, [SOURCE_KIND_DIMENSION]: kind };
      const metric = (name: string): string => `${namespace}/${shipperMetric(name)} (${SOURCE_KIND_DIMENSION}=${kind})`;
      alarms.push({
        id: `records-failed-${kind}`,
        namespace,
        metricName: shipperMetric("RecordsFailed"),
        statistic: "Sum",
        dimensions: own,
        ...SUSTAINED,
        thresholdKey: "recordsFailed",
        threshold: thresholds.recordsFailed,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        describe: (t) =>
          `${fnIntro(t)}: ${plural(thresholds.recordsFailed, `${kind} record`)} or more failed per 5 minutes, in 2 of the last 3 (${metric("RecordsFailed")}). ` +
          "The event source retries them, then dead-letters them. " +
          `The log group ${t.logGroupName} says why ("record failed", "Loki push failed"): Loki unreachable or answering 401/403/404/5xx, or the invocation's time ran out. Fix it before the retries run out.`,
      });
      alarms.push({
        id: `entries-rejected-${kind}`,
        namespace,
        metricName: shipperMetric("EntriesRejected"),
        statistic: "Sum",
        dimensions: own,
        ...AT_ONCE,
        thresholdKey: "entriesRejected",
        threshold: thresholds.entriesRejected,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        describe: (t) =>
          `${fnIntro(t)}: Loki refused ${plural(thresholds.entriesRejected, `${kind} entry`, `${kind} entries`)} or more for good in 5 minutes (${metric("EntriesRejected")}): they are lost, not retried. ` +
          `The log group ${t.logGroupName} gives Loki's reason ("Loki rejected entries of a push"): "entry too far behind" (old entries into a stream holding newer ones: widen Loki's out-of-order window), ` +
          "\"line too long\" (set maxLineSize to Loki's max_line_size), or a rate or stream limit (raise the tenant's limits in Loki).",
      });
      alarms.push({
        id: `delivery-lag-${kind}`,
        namespace,
        metricName: shipperMetric("DeliveryLagNewest"),
        dimensions: own,
        ...LAG_EVALUATION,
        thresholdKey: "deliveryLagSeconds",
        threshold: thresholds.deliveryLagSeconds * 1000,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        describe: (t) =>
          `${fnIntro(t)}: ${kind} logs reach Loki late: for 15 minutes even the freshest push of each 5 minutes carried entries ${thresholds.deliveryLagSeconds} s old or more (${metric("DeliveryLagNewest")}, Minimum). ` +
          "The shipper falls behind or the source delivers late (S3 files of ALB and CloudTrail arrive 5 to 15 minutes after their first line). " +
          "Check the throttles, errors and iterator-age alarms and Loki's latency (PushRetries); entries over an hour behind their stream are refused by Loki.",
      });
    }
  }
  return alarms;
}
