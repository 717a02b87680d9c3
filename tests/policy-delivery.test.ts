/**
 * The delivery policies on hand-built stacks: dead-letter queues and visibility timeouts of SQS
 * sources, ReportBatchItemFailures, Kinesis failure handling, BATCH_SIZE bounds.
 */
import { expect } from "chai";
import { batchSizeBounds } from "../policy/policies/batch-size-bounds";
import { kinesisFailureHandling } from "../policy/policies/kinesis-failure-handling";
import { reportBatchItemFailures } from "../policy/policies/report-batch-item-failures";
import { sqsDeadLetterQueue } from "../policy/policies/sqs-dead-letter-queue";
import { sqsVisibilityTimeout } from "../policy/policies/sqs-visibility-timeout";
import { fake, FakeResource, runPolicy, UNKNOWN, urnOf } from "./support/policy-harness";

const QUEUE = "aws:sqs/queue:Queue";
const MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";
const REPORT = { functionResponseTypes: ["ReportBatchItemFailures"] };

/** A shipper (timeout 60 s) reading S3 events from a queue. */
function sqsStack(queueProps: Record<string, unknown>, mappingProps: Record<string, unknown> = REPORT, extra: FakeResource[] = []): FakeResource[] {
  const fn = fake.shipper("shipper");
  const dlq = fake.queue("dead-letter");
  const queue = fake.queue("s3-events", queueProps);
  return [fn, dlq, queue, fake.mapping("s3-events-mapping", queue, fn, mappingProps), ...extra];
}
const redrive = (arn: string): string => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 5 });
const DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:dead-letter";

function kinesisStack(props: Record<string, unknown>): FakeResource[] {
  const fn = fake.shipper("shipper");
  return [fn, fake.mapping("stream-mapping", fake.kinesisArn("logs"), fn, { startingPosition: "LATEST", ...props })];
}

describe("policy sqs-dead-letter-queue", () => {
  it("passes a queue with a redrive policy, or one computed at preview", async () => {
    expect((await runPolicy(sqsDeadLetterQueue, sqsStack({ visibilityTimeoutSeconds: 360, redrivePolicy: redrive(DLQ_ARN) }))).violations).to.deep.equal([]);
    expect((await runPolicy(sqsDeadLetterQueue, sqsStack({ redrivePolicy: UNKNOWN }))).violations).to.deep.equal([]);
  });

  it("passes a queue given its dead-letter queue by a separate RedrivePolicy resource", async () => {
    const attach: FakeResource = { type: "aws:sqs/redrivePolicy:RedrivePolicy", name: "attach", inputs: { queueUrl: UNKNOWN, redrivePolicy: redrive(DLQ_ARN) }, dependsOn: { queueUrl: ["s3-events"] } };
    expect((await runPolicy(sqsDeadLetterQueue, sqsStack({}, REPORT, [attach]))).violations).to.deep.equal([]);
  });

  it("fails a queue without one, on the queue, naming the mapping and the fix", async () => {
    const { violations } = await runPolicy(sqsDeadLetterQueue, sqsStack({ visibilityTimeoutSeconds: 360 }));
    expect(violations).to.have.length(1);
    expect(violations[0]).to.include({ level: "mandatory", urn: urnOf(QUEUE, "s3-events") });
    expect(violations[0].message).to.contain('SQS queue "s3-events" feeds function "shipper" (event source mapping "s3-events-mapping") without a dead-letter queue').and.contain("redrivePolicy");
  });

  it("ignores queues outside the stack and mappings of other functions", async () => {
    const fn = fake.shipper("shipper");
    expect((await runPolicy(sqsDeadLetterQueue, [fn, fake.mapping("m", "arn:aws:sqs:us-east-1:123456789012:elsewhere", fn, REPORT)])).violations).to.deep.equal([]);
    const other = fake.function("other");
    const queue = fake.queue("q");
    expect((await runPolicy(sqsDeadLetterQueue, [fn, other, queue, fake.mapping("m", queue, other)])).violations).to.deep.equal([]);
  });
});

describe("policy sqs-visibility-timeout", () => {
  it("passes six times the function timeout", async () => {
    expect((await runPolicy(sqsVisibilityTimeout, sqsStack({ visibilityTimeoutSeconds: 360 }))).violations).to.deep.equal([]);
  });

  it("advises against less, and against SQS's 30 s default", async () => {
    const { violations } = await runPolicy(sqsVisibilityTimeout, sqsStack({ visibilityTimeoutSeconds: 120 }));
    expect(violations).to.have.length(1);
    expect(violations[0].level).to.equal("advisory");
    expect(violations[0].message).to.contain("visibility timeout of 120 s, less than 6 times the function timeout (60 s)").and.contain("at least 360");
    expect((await runPolicy(sqsVisibilityTimeout, sqsStack({}))).messages()[0]).to.contain("30 s (the default)");
  });

  it("reads the factor from the config and skips unknown timeouts", async () => {
    expect((await runPolicy(sqsVisibilityTimeout, sqsStack({ visibilityTimeoutSeconds: 120 }), { "sqs-visibility-timeout": { factor: 2 } })).violations).to.deep.equal([]);
    expect((await runPolicy(sqsVisibilityTimeout, sqsStack({ visibilityTimeoutSeconds: UNKNOWN }))).violations).to.deep.equal([]);
  });
});

describe("policy report-batch-item-failures", () => {
  it("passes SQS and Kinesis mappings that report batch item failures", async () => {
    expect((await runPolicy(reportBatchItemFailures, sqsStack({}))).violations).to.deep.equal([]);
    expect((await runPolicy(reportBatchItemFailures, kinesisStack(REPORT))).violations).to.deep.equal([]);
  });

  it("fails mappings without it, explaining the records are lost", async () => {
    const sqs = await runPolicy(reportBatchItemFailures, sqsStack({}, {}));
    expect(sqs.violations[0]).to.include({ level: "mandatory", urn: urnOf(MAPPING, "s3-events-mapping") });
    expect(sqs.violations[0].message).to.contain('"s3-events-mapping" (SQS)').and.contain("failed messages are deleted").and.contain('functionResponseTypes: ["ReportBatchItemFailures"]');
    const kinesis = await runPolicy(reportBatchItemFailures, kinesisStack({ functionResponseTypes: [] }));
    expect(kinesis.messages()[0]).to.contain("(Kinesis)").and.contain("moves past failed records");
  });

  it("recognises the queue at preview through the mapping's dependencies", async () => {
    const stack = sqsStack({}, {});
    stack[3].inputs.eventSourceArn = UNKNOWN;
    stack[3].inputs.functionName = UNKNOWN;
    expect((await runPolicy(reportBatchItemFailures, stack)).messages()[0]).to.contain("(SQS)");
  });
});

describe("policy kinesis-failure-handling", () => {
  const destination = { destinationConfig: { onFailure: { destinationArn: DLQ_ARN } } };

  it("passes bisect with an on-failure destination (computed at preview counts)", async () => {
    expect((await runPolicy(kinesisFailureHandling, kinesisStack({ bisectBatchOnFunctionError: true, ...destination }))).violations).to.deep.equal([]);
    expect((await runPolicy(kinesisFailureHandling, kinesisStack({ bisectBatchOnFunctionError: true, destinationConfig: { onFailure: { destinationArn: UNKNOWN } } }))).violations).to.deep.equal([]);
  });

  it("fails a mapping without either, naming both settings", async () => {
    const { violations } = await runPolicy(kinesisFailureHandling, kinesisStack({}));
    expect(violations).to.have.length(1);
    expect(violations[0].level).to.equal("mandatory");
    expect(violations[0].message).to.contain("Fix: set bisectBatchOnFunctionError: true and destinationConfig.onFailure.destinationArn on the mapping");
  });

  it("fails a mapping with only one of them, naming the missing one", async () => {
    expect((await runPolicy(kinesisFailureHandling, kinesisStack(destination))).messages()[0]).to.contain("Fix: set bisectBatchOnFunctionError: true on");
    expect((await runPolicy(kinesisFailureHandling, kinesisStack({ bisectBatchOnFunctionError: true }))).messages()[0]).to.contain("Fix: set destinationConfig.onFailure.destinationArn on");
  });

  it("leaves SQS mappings alone", async () => {
    expect((await runPolicy(kinesisFailureHandling, sqsStack({ redrivePolicy: redrive(DLQ_ARN) }))).violations).to.deep.equal([]);
  });
});

describe("policy batch-size-bounds", () => {
  const fn = (env: Record<string, string>) => [fake.shipper("shipper", env)];

  it("passes the default and sizes within bounds", async () => {
    for (const env of [{}, { BATCH_SIZE: "4096" }, { BATCH_SIZE: String(4 * 1024 * 1024) }] as Record<string, string>[]) {
      expect((await runPolicy(batchSizeBounds, fn(env))).violations, JSON.stringify(env)).to.deep.equal([]);
    }
  });

  it("advises against tiny and huge batches, with configurable bounds", async () => {
    expect((await runPolicy(batchSizeBounds, fn({ BATCH_SIZE: "1024" }))).violations[0]).to.include({ level: "advisory", urn: urnOf("aws:lambda/function:Function", "shipper") });
    expect((await runPolicy(batchSizeBounds, fn({ BATCH_SIZE: "1024" }))).messages()[0]).to.contain("BATCH_SIZE (stack config batchSize) on function \"shipper\" is 1024 bytes, below 4096");
    expect((await runPolicy(batchSizeBounds, fn({ BATCH_SIZE: "8388608" }))).messages()[0]).to.contain("above 4194304").and.contain("grpc_server_max_recv_msg_size");
    expect((await runPolicy(batchSizeBounds, fn({ BATCH_SIZE: "8388608" }), { "batch-size-bounds": { maxBytes: 16777216 } })).violations).to.deep.equal([]);
  });

  it("notes at preview that an unknown BATCH_SIZE cannot be checked yet", async () => {
    const result = await runPolicy(batchSizeBounds, fn({ BATCH_SIZE: UNKNOWN }));
    expect(result.violations).to.deep.equal([]);
    expect(result.previewNotes).to.have.length(1);
  });
});
