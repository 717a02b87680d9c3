import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Where the deployment lands, for building ARNs of things the program does not create. */
export interface AwsTarget {
  partition: pulumi.Output<string>;
  region: pulumi.Output<string>;
  accountId: pulumi.Output<string>;
}

/** What every module needs to declare children of the component. */
export interface DeployContext {
  /** The component's name; children's logical names start with it. */
  name: string;
  /** The component: parent of every child. */
  parent: pulumi.Resource;
  /** Tags for every taggable child. */
  tags: Record<string, string>;
  target: AwsTarget;
}

export function lookupTarget(parent: pulumi.Resource): AwsTarget {
  const opts = { parent };
  return {
    partition: aws.getPartitionOutput({}, opts).partition,
    region: aws.getRegionOutput({}, opts).region,
    accountId: aws.getCallerIdentityOutput({}, opts).accountId,
  };
}

/** Tags as a resource input, or nothing when there are none (keeps resource inputs minimal). */
export function tagsOf(ctx: Pick<DeployContext, "tags">): { tags?: Record<string, string> } {
  return Object.keys(ctx.tags).length > 0 ? { tags: ctx.tags } : {};
}

export const json = (value: unknown): string => JSON.stringify(value);
