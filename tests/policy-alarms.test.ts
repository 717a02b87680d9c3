/**
 * The advisory dead-letter-queue-alarm policy: every SQS queue of the stack that receives what
 * the shipper gave up on (a feeding queue's dead-letter queue, the on-failure destination of its
 * asynchronous invocations or Kinesis mappings, its own or an EventBridge target's dead-letter
 * config) needs a CloudWatch alarm on its ApproximateNumberOfMessagesVisible (AWS/SQS,
 * QueueName). On hand-built stacks and on the Pulumi program with and without `alarms`.
 */
import { expect } from "chai";
import { deadLetterQueueAlarm } from "../policy/policies/dead-letter-queue-alarm";
import { policies } from "../policy/policies";
import { fake, FakeResource, fromProgramRun, Props, runPack, runPolicy, UNKNOWN, urnOf } from "./support/policy-harness";
import { loadStackConfig, runProgram } from "./support/pulumi-mocks";

const QUEUE = "aws:sqs/queue:Queue";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** A MetricAlarm on one metric (`dimensionsFrom`: the queue the dimensions are computed from). */
function alarm(name: string, props: Props, dimensionsFrom?: FakeResource): FakeResource {
  const inputs = { comparisonOperator: "GreaterThanOrEqualToThreshold", evaluationPeriods: 1, threshold: 1, statistic: "Maximum", period: 60, ...props };
  return { type: ALARM, name, inputs, ...(dimensionsFrom ? { dependsOn: { dimensions: [dimensionsFrom.name] } } : {}) };
}

const visible = (queueName: string, extra: Props = {}): Props => ({ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: queueName }, ...extra });

/** The shipper fed by an SQS queue that redrives to a dead-letter queue, plus `extra`. */
function sqsStack(...extra: FakeResource[]): FakeResource[] {
  const fn = fake.shipper("shipper", {}, { timeout: 60 });
  const dlq = fake.queue("dlq");
  const source = fake.queue("events", { visibilityTimeoutSeconds: 360, redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.outputs?.arn, maxReceiveCount: 5 }) });
  source.dependsOn = { redrivePolicy: ["dlq"] };
  return [fn, dlq, source, fake.mapping("events-to-shipper", source, fn, { functionResponseTypes: ["ReportBatchItemFailures"] }), ...extra];
}

async function flagged(resources: FakeResource[]): Promise<string[]> {
  const result = await runPolicy(deadLetterQueueAlarm, resources);
  for (const v of result.violations) expect(v.level).to.equal("advisory");
  return result.violations.map((v) => v.urn?.split("::").pop() ?? "");
}

describe("policy dead-letter-queue-alarm", () => {
  const cases: { name: string; extra: FakeResource[]; flagged: string[] }[] = [
    { name: "no alarm at all", extra: [], flagged: ["dlq"] },
    { name: "an alarm on the dead-letter queue's visible messages", extra: [alarm("dlq-alarm", visible("dlq"))], flagged: [] },
    { name: "an alarm whose QueueName is computed from the queue (preview)", extra: [alarm("dlq-alarm", visible(UNKNOWN), fake.queue("dlq"))], flagged: [] },
    { name: "an alarm on the feeding queue instead", extra: [alarm("events-alarm", visible("events"))], flagged: ["dlq"] },
    { name: "an alarm on another metric of the dead-letter queue", extra: [alarm("dlq-alarm", { ...visible("dlq"), metricName: "NumberOfMessagesSent" })], flagged: ["dlq"] },
    { name: "an alarm in another namespace", extra: [alarm("dlq-alarm", { ...visible("dlq"), namespace: "Custom/SQS" })], flagged: ["dlq"] },
    {
      name: "a metric-math alarm over the queue's visible messages",
      extra: [alarm("dlq-math", { metricQueries: [{ id: "m1", metric: { ...visible("dlq"), stat: "Maximum", period: 60 } }, { id: "e1", expression: "m1", returnData: true }] })],
      flagged: [],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.flagged.length === 0 ? "silent" : "advises"}`, async () => {
      expect(await flagged(sqsStack(...c.extra))).to.deep.equal(c.flagged);
    });
  }

  it("names the queue, what it receives, and the alarm to add", async () => {
    const { violations } = await runPolicy(deadLetterQueueAlarm, sqsStack());
    expect(violations).to.have.length(1);
    expect(violations[0].urn).to.equal(urnOf(QUEUE, "dlq"));
    expect(violations[0].message)
      .to.contain('SQS queue "dlq" is the dead-letter queue of SQS queue "events" of function "shipper", and no CloudWatch alarm watches it')
      .and.contain('ApproximateNumberOfMessagesVisible (namespace AWS/SQS, dimensions {QueueName: "dlq"}')
      .and.contain('treatMissingData "ignore"')
      .and.contain("alarms");
  });

  describe("every way a queue receives the shipper's failures", () => {
    const withDlq = (build: (fn: FakeResource, dlq: FakeResource) => FakeResource[]): FakeResource[] => {
      const dlq = fake.queue("failures");
      const fn = fake.shipper("shipper");
      return [fn, dlq, ...build(fn, dlq)];
    };
    const cases: { name: string; stack: FakeResource[]; role?: string }[] = [
      {
        name: "the on-failure destination of asynchronous invocations",
        stack: withDlq((fn, dlq) => [
          { type: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", name: "async", inputs: { functionName: fn.inputs.name, destinationConfig: { onFailure: { destination: dlq.outputs?.arn } } }, dependsOn: { functionName: [fn.name], destinationConfig: [dlq.name] } },
        ]),
        role: "the on-failure destination of its asynchronous invocations",
      },
      {
        name: "the function's own dead-letter config",
        stack: [withProps(fake.shipper("shipper"), { deadLetterConfig: { targetArn: "arn:aws:sqs:us-east-1:123456789012:failures" } }), fake.queue("failures")],
        role: "the function's dead-letter queue",
      },
      {
        name: "a Kinesis mapping's on-failure destination",
        stack: withDlq((fn, dlq) => [fake.mapping("stream", fake.kinesisArn("logs"), fn, { startingPosition: "LATEST", bisectBatchOnFunctionError: true, functionResponseTypes: ["ReportBatchItemFailures"], destinationConfig: { onFailure: { destinationArn: dlq.outputs?.arn } } })]),
        role: 'the on-failure destination of Kinesis mapping "stream"',
      },
      {
        name: "an EventBridge target's dead-letter config",
        stack: withDlq((fn, dlq) => [{ type: "aws:cloudwatch/eventTarget:EventTarget", name: "s3-created", inputs: { rule: "objects", arn: fn.outputs?.arn, deadLetterConfig: { arn: dlq.outputs?.arn } }, dependsOn: { arn: [fn.name] } }]),
        role: 'the dead-letter queue of EventBridge target "s3-created"',
      },
      {
        name: "an SNS topic as on-failure destination (not a queue)",
        stack: withDlq((fn) => [
          { type: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", name: "async", inputs: { functionName: fn.inputs.name, destinationConfig: { onFailure: { destination: "arn:aws:sns:us-east-1:123456789012:failures" } } } },
        ]),
      },
      { name: "a queue outside the stack", stack: [withProps(fake.shipper("shipper"), { deadLetterConfig: { targetArn: "arn:aws:sqs:us-east-1:123456789012:elsewhere" } })] },
    ];
    for (const c of cases) {
      it(`${c.name}: ${c.role ? "advises" : "silent"}`, async () => {
        const { violations } = await runPolicy(deadLetterQueueAlarm, c.stack);
        if (!c.role) {
          expect(violations).to.deep.equal([]);
          return;
        }
        expect(violations.map((v) => v.urn)).to.deep.equal([urnOf(QUEUE, "failures")]);
        expect(violations[0].message).to.contain(`SQS queue "failures" is ${c.role} of function "shipper"`);
        // With an alarm on it, silent.
        expect((await runPolicy(deadLetterQueueAlarm, [...c.stack, alarm("failures-alarm", visible("failures"))])).violations).to.deep.equal([]);
      });
    }
  });

  it("follows a redrive policy declared as its own resource", async () => {
    const [fn, dlq, source, mapping] = sqsStack();
    const bare = { ...source, inputs: { ...source.inputs, redrivePolicy: undefined }, outputs: { ...source.outputs, redrivePolicy: undefined }, dependsOn: {} };
    const redrive: FakeResource = {
      type: "aws:sqs/redrivePolicy:RedrivePolicy",
      name: "events-redrive",
      inputs: { queueUrl: source.outputs?.url, redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.outputs?.arn, maxReceiveCount: 5 }) },
    };
    expect(await flagged([fn, dlq, bare, mapping, redrive])).to.deep.equal(["dlq"]);
    expect(await flagged([fn, dlq, bare, mapping])).to.deep.equal([]);
  });

  it("reports a queue with several roles once", async () => {
    const stack = sqsStack();
    const fn = stack[0];
    const dlq = stack[1];
    stack.push({ type: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", name: "async", inputs: { functionName: fn.inputs.name, destinationConfig: { onFailure: { destination: dlq.outputs?.arn } } }, dependsOn: { functionName: [fn.name] } });
    const { violations } = await runPolicy(deadLetterQueueAlarm, stack);
    expect(violations).to.have.length(1);
    expect(violations[0].message).to.contain('is the dead-letter queue of SQS queue "events" and the on-failure destination of its asynchronous invocations of function "shipper"');
  });

  it("leaves functions carrying the telemetry extension alone", async () => {
    const app = withProps(fake.withExtension("app"), { deadLetterConfig: { targetArn: "arn:aws:sqs:us-east-1:123456789012:app-dlq" } });
    expect((await runPolicy(deadLetterQueueAlarm, [app, fake.queue("app-dlq")])).violations).to.deep.equal([]);
  });
});

function withProps(r: FakeResource, props: Props): FakeResource {
  return { ...r, inputs: { ...r.inputs, ...props }, outputs: { ...(r.outputs ?? r.inputs), ...props } };
}

describe("dead-letter-queue-alarm on the Pulumi program (mocks)", function () {
  this.timeout(60_000);
  const sources = { buckets: [{ name: "alb-logs", delivery: "sqs" }, { name: "trail-logs", delivery: "eventbridge" }], kinesisStreams: ["cw-logs"] };

  it("is silent with the program's alarms on (the example stack)", async () => {
    const config: Record<string, unknown> = { ...loadStackConfig(), ...sources };
    expect(config["lambda-promtail:alarms"]).to.not.equal(undefined);
    const run = await runProgram(config);
    expect(run.ofType(ALARM).filter((a) => a.inputs.metricName === "ApproximateNumberOfMessagesVisible")).to.have.length(1);
    const result = await runPack(policies, fromProgramRun(run));
    expect(result.violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
  });

  it("advises an alarm on the dead-letter queue with alarms off", async () => {
    const config: Record<string, unknown> = { ...loadStackConfig(), ...sources };
    delete config["lambda-promtail:alarms"];
    const run = await runProgram(config);
    expect(run.ofType(ALARM)).to.deep.equal([]);
    const result = await runPack(policies, fromProgramRun(run));
    expect(result.violations.map((v) => `${v.policy} ${v.level} ${v.urn?.split("::").pop()}`)).to.deep.equal(["dead-letter-queue-alarm advisory lambda-promtail-dead-letter"]);
    expect(result.violations[0].message)
      .to.contain("the dead-letter queue of SQS queue")
      .and.contain("the on-failure destination of its asynchronous invocations")
      .and.contain("the on-failure destination of Kinesis mapping")
      .and.contain("the dead-letter queue of EventBridge target");
  });
});
