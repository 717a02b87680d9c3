/**
 * The alarms of infra/alarmPlan.ts as aws.cloudwatch.MetricAlarm resources, named
 * `<component>-alarm-<id>`, each notifying the stack's topic when it goes to ALARM and back to OK.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmSpec, AlarmTargets, MAX_DESCRIPTION } from "./alarmPlan";
import { DeployContext, tagsOf } from "./context";

/** The logical name of an alarm: a stable prefix and the plan's id, e.g. `lambda-promtail-alarm-dead-letter`. */
export const alarmName = (component: string, id: string): string => `${component}-alarm-${id}`;

/**
 * OK notifications too: the operator learns that the dead-letter queue was drained or the lag
 * recovered without watching the console. No INSUFFICIENT_DATA notifications: missing data
 * means nothing happened (treatMissingData notBreaching).
 */
export function declareAlarms(
  ctx: Pick<DeployContext, "name" | "parent" | "tags">,
  specs: AlarmSpec<pulumi.Input<string>, string>[],
  targets: AlarmTargets<pulumi.Input<string>>,
  topicArn: string | undefined,
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
        ...(topicArn ? { alarmActions: [topicArn], okActions: [topicArn] } : {}),
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
