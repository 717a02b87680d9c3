/** CloudWatch Logs source: a subscription filter per log group, invoking the function. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DeployContext } from "./context";
import { AUTONAME_LIMIT, fitLogicalName, slug } from "./names";
import { logGroupArn } from "./policies";
import { LogGroupSource } from "./settings";

export interface LogGroupSubscription {
  permission: aws.lambda.Permission;
  filter: aws.cloudwatch.LogSubscriptionFilter;
}

/** The ARN of a configured log group in the deployment's account and region. */
export function configuredLogGroupArn(ctx: DeployContext, group: LogGroupSource): pulumi.Output<string> {
  const { partition, region, accountId } = ctx.target;
  return pulumi.all([partition, region, accountId]).apply(([p, r, a]) => logGroupArn(p, r, a, group.name));
}

export function declareLogGroupSubscriptions(ctx: DeployContext, fn: aws.lambda.Function, groups: LogGroupSource[]): LogGroupSubscription[] {
  const opts = { parent: ctx.parent };
  return groups.map((group) => {
    const id = slug(group.name);
    // Invocation only from this log group's subscription, in this account.
    const permission = new aws.lambda.Permission(
      fitLogicalName(`${ctx.name}-logs-allow-${id}`, AUTONAME_LIMIT.statementId),
      {
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "logs.amazonaws.com",
        sourceArn: pulumi.interpolate`${configuredLogGroupArn(ctx, group)}:*`,
        sourceAccount: ctx.target.accountId,
      },
      opts,
    );
    const filter = new aws.cloudwatch.LogSubscriptionFilter(
      fitLogicalName(`${ctx.name}-logs-${id}`, AUTONAME_LIMIT.name),
      { logGroup: group.name, filterPattern: group.filterPattern, destinationArn: fn.arn },
      { ...opts, dependsOn: [permission] },
    );
    return { permission, filter };
  });
}
