/** Kinesis source: an event source mapping per existing stream, failures to the dead-letter queue. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DeployContext, tagsOf } from "./context";
import { slug } from "./names";
import { streamArn } from "./policies";
import { KinesisSource } from "./settings";

/** The stream's ARN: as configured, or built from its name in the deployment's account and region. */
export function configuredStreamArn(ctx: DeployContext, stream: KinesisSource): pulumi.Output<string> {
  if (stream.arn) return pulumi.output(stream.arn);
  const { partition, region, accountId } = ctx.target;
  return pulumi.all([partition, region, accountId]).apply(([p, r, a]) => streamArn(p, r, a, stream.name));
}

export function declareKinesisMappings(ctx: DeployContext, fn: aws.lambda.Function, streams: KinesisSource[], deadLetter: aws.sqs.Queue): aws.lambda.EventSourceMapping[] {
  return streams.map(
    (stream) =>
      new aws.lambda.EventSourceMapping(
        `${ctx.name}-kinesis-${slug(stream.name)}`,
        {
          eventSourceArn: configuredStreamArn(ctx, stream),
          functionName: fn.arn,
          startingPosition: stream.startingPosition,
          batchSize: stream.batchSize,
          // Only the failed records are retried; a failing batch is halved until the bad record is
          // alone; after the bounded retries its metadata goes to the dead-letter queue.
          functionResponseTypes: ["ReportBatchItemFailures"],
          bisectBatchOnFunctionError: true,
          maximumRetryAttempts: stream.maximumRetryAttempts,
          destinationConfig: { onFailure: { destinationArn: deadLetter.arn } },
          ...tagsOf(ctx),
        },
        { parent: ctx.parent },
      ),
  );
}
