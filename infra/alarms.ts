/**
 * The alarms of infra/alarmPlan.ts as aws.cloudwatch.MetricAlarm resources, named
 * `<component>-alarm-<id>`, each notifying the stack's topic when it goes to ALARM and back to OK.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmSpec, AlarmTargets, MAX_DESCRIPTION } from "./alarmPlan";
import { checkTopicRegion, parseTopicArn } from "./alarmTopic";
import { DeployContext, tagsOf } from "./context";

/** The logical name of an alarm: a stable prefix and the plan's id, e.g. `lambda-promtail-alarm-dead-letter`. */
export const alarmName = (component: string, id: string): string => `${component}-alarm-${id}`;

/**
 * OK notifications too: the operator learns that the dead-letter queue was drained or the lag
 * recovered without watching the console. No INSUFFICIENT_DATA notifications: missing data
 * means nothing happened (treatMissingData notBreaching), or for the dead-letter queue that SQS
 * stopped publishing an idle queue's metrics (ignore: the state stays).
 */
export function declareAlarms(
  ctx: Pick<DeployContext, "name" | "parent" | "tags">,
  specs: AlarmSpec<pulumi.Input<string>, string>[],
  targets: AlarmTargets<pulumi.Input<string>>,
  /** What `alarmActions` returned, or nothing: the alarms notify no one. */
  actions: pulumi.Input<string[]> | undefined,
): Record<string, aws.cloudwatch.MetricAlarm> {
  const resolved = pulumi.output(targets) as pulumi.Output<AlarmTargets<string>>;
  const alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};
  for (const spec of specs) {
    alarms[spec.id] = new aws.cloudwatch.MetricAlarm(
      alarmName(ctx.name, spec.id),
      {
        alarmDescription: resolved.apply((t) => fitDescription(spec.describe(t))),
        namespace: spec.namespace,
        metricName: spec.metricName,
        statistic: spec.statistic,
        dimensions: spec.dimensions,
        period: spec.period,
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        threshold: spec.threshold,
        comparisonOperator: spec.comparisonOperator,
        treatMissingData: spec.treatMissingData,
        ...(actions ? { alarmActions: actions, okActions: actions } : {}),
        ...tagsOf(ctx),
      },
      { parent: ctx.parent },
    );
  }
  return alarms;
}

/** CloudWatch refuses a longer description; very long resource names could push one over. */
export function fitDescription(text: string): string {
  return text.length <= MAX_DESCRIPTION ? text : `${text.slice(0, MAX_DESCRIPTION - 1)}…`;
}

/**
 * The region the stack's AWS provider creates resources in, when the stack says so without
 * asking AWS: `aws:region` in the stack config, else the AWS_REGION / AWS_DEFAULT_REGION
 * environment variables, in the provider's order. Undefined when only a profile names it.
 */
export function configuredRegion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [new pulumi.Config("aws").get("region"), env.AWS_REGION, env.AWS_DEFAULT_REGION];
  return candidates.map((r) => r?.trim()).find((r) => r !== undefined && r !== "");
}

/**
 * The alarm actions notifying `topicArn` (the value of `setting`), after checking that the topic
 * is in the stack's region. Call it before declaring anything: with the region in the stack config
 * or the environment it throws ConfigError at once; otherwise the provider's region is looked up
 * (an invoke, answered during preview too) and the alarms' actions fail with the same error.
 */
export function alarmActions(setting: string, topicArn: string, parent: pulumi.Resource): pulumi.Input<string[]> {
  const topic = parseTopicArn(setting, topicArn);
  const region = configuredRegion();
  if (region !== undefined) {
    checkTopicRegion(setting, topic, region);
    return [topic.arn];
  }
  return aws.getRegionOutput({}, { parent }).region.apply((providerRegion) => {
    checkTopicRegion(setting, topic, providerRegion);
    return [topic.arn];
  });
}
