/**
 * The opt-in CloudWatch alarms: which alarms a deployment gets and how each is wired (metric,
 * namespace, dimensions, statistic, evaluation, threshold, missing data), checked as a table on
 * the pure plan; their descriptions; and the program under Pulumi mocks (actions to the topic,
 * dimensions naming the real function and queue, the namespace the function publishes under,
 * none without `alarms`, the example stack's full resource list).
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ConfigError } from "../handler/config";
import { ShipperMetrics } from "../handler/metrics";
import type { ShipStats } from "../handler/pipeline";
import { AlarmDeployment, AlarmSpec, AlarmTargets, MAX_DESCRIPTION, planAlarms, sourceKindsOf } from "../infra/alarmPlan";
import { alarmActions, fitDescription } from "../infra/alarms";
import { LambdaPromtail } from "../infra/lambdaPromtail";
import { DEFAULT_ALARM_THRESHOLDS, parseStackSettings } from "../infra/settings";
import { parseEmf } from "./support/emf";
import { ACCOUNT, loadStackConfig, ProgramRun, REGION, RegisteredResource, runInMocks, runProgram } from "./support/pulumi-mocks";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const WRITE = "https://loki.example.com/loki/api/v1/push";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
const P = "lambda-promtail";
const at = `${REGION}:${ACCOUNT}`;
const FN_NAME = `${P}-function-1a2b3c4`;
const LOG_GROUP = `/aws/lambda/${P}-20240101000000000000000001`;
const DLQ = { name: `${P}-dead-letter-1a2b3c4`, arn: `arn:aws:sqs:${at}:${P}-dead-letter-1a2b3c4`, url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${P}-dead-letter-1a2b3c4` };

const TARGETS: AlarmTargets<string> = { functionName: "shipper", logGroupName: "/aws/lambda/shipper", deadLetterQueue: { name: "dlq", arn: "arn:aws:sqs:us-east-1:123456789012:dlq", url: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq" } };
const EVERYTHING: AlarmDeployment = { sourceKinds: ["cloudwatch", "kinesis", "s3", "sqs", "eventbridge"], kinesisStreams: ["app-logs", "cw-logs"], asyncSources: true, s3EventQueue: true, metricsNamespace: "LambdaPromtail" };

/** The wiring of an alarm, without its description. */
type Wiring = Omit<AlarmSpec<string>, "describe">;
const valueOf = <V>(o: pulumi.Output<V>): Promise<V> => new Promise((resolve) => o.apply((v) => resolve(v)));
const wiring = (spec: AlarmSpec<string>): Wiring => {
  const { describe: _describe, ...rest } = spec;
  return rest;
};

describe("alarms", function () {
  this.timeout(60_000);

  describe("which alarms a deployment gets (the plan)", () => {
    const own = (kind: string): Record<string, string> => ({ service: "shipper", source_kind: kind });
    const base = { comparisonOperator: "GreaterThanOrEqualToThreshold" as const, treatMissingData: "notBreaching" as const };
    const sustained = { period: 300, evaluationPeriods: 3, datapointsToAlarm: 2 };
    const atOnce = { period: 300, evaluationPeriods: 1, datapointsToAlarm: 1 };
    const perKind = (kind: string): Wiring[] => [
      { id: `records-failed-${kind}`, namespace: "LambdaPromtail", metricName: "RecordsFailed", statistic: "Sum", dimensions: own(kind), ...sustained, thresholdKey: "recordsFailed", threshold: 1, ...base },
      { id: `entries-rejected-${kind}`, namespace: "LambdaPromtail", metricName: "EntriesRejected", statistic: "Sum", dimensions: own(kind), ...atOnce, thresholdKey: "entriesRejected", threshold: 1, ...base },
      { id: `delivery-lag-${kind}`, namespace: "LambdaPromtail", metricName: "DeliveryLagNewest", statistic: "Minimum", dimensions: own(kind), period: 300, evaluationPeriods: 3, datapointsToAlarm: 3, thresholdKey: "deliveryLagSeconds", threshold: 900_000, ...base },
    ];

    it("watches the dead-letter queue, errors, throttles, Kinesis iterator age and, per source kind, failed records, rejected entries and delivery lag", () => {
      expect(planAlarms(EVERYTHING, DEFAULT_ALARM_THRESHOLDS, TARGETS).map(wiring)).to.deep.equal([
        { id: "dead-letter", namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", statistic: "Maximum", dimensions: { QueueName: "dlq" }, ...atOnce, thresholdKey: "deadLetterMessages", threshold: 1, ...base, treatMissingData: "ignore" },
        { id: "errors", namespace: "AWS/Lambda", metricName: "Errors", statistic: "Sum", dimensions: { FunctionName: "shipper" }, ...sustained, thresholdKey: "errors", threshold: 1, ...base },
        { id: "throttles", namespace: "AWS/Lambda", metricName: "Throttles", statistic: "Sum", dimensions: { FunctionName: "shipper" }, ...sustained, thresholdKey: "throttles", threshold: 1, ...base },
        { id: "dead-letter-delivery", namespace: "AWS/Lambda", metricName: "DestinationDeliveryFailures", statistic: "Sum", dimensions: { FunctionName: "shipper" }, ...atOnce, thresholdKey: "deadLetterDeliveryFailures", threshold: 1, ...base },
        { id: "iterator-age", namespace: "AWS/Lambda", metricName: "IteratorAge", statistic: "Maximum", dimensions: { FunctionName: "shipper" }, period: 60, evaluationPeriods: 5, datapointsToAlarm: 5, thresholdKey: "iteratorAgeSeconds", threshold: 300_000, ...base },
        ...["cloudwatch", "kinesis", "s3", "sqs", "eventbridge"].flatMap(perKind),
      ]);
    });

    it("applies every configured threshold, ages in milliseconds", () => {
      const thresholds = { deadLetterMessages: 2, deadLetterDeliveryFailures: 7, errors: 3, throttles: 4, iteratorAgeSeconds: 60, recordsFailed: 5, entriesRejected: 6, deliveryLagSeconds: 1800 };
      const plan = planAlarms({ ...EVERYTHING, sourceKinds: ["cloudwatch"] }, thresholds, TARGETS);
      expect(Object.fromEntries(plan.map((a) => [a.id, a.threshold]))).to.deep.equal({
        "dead-letter": 2,
        errors: 3,
        throttles: 4,
        "dead-letter-delivery": 7,
        "iterator-age": 60_000,
        "records-failed-cloudwatch": 5,
        "entries-rejected-cloudwatch": 6,
        "delivery-lag-cloudwatch": 1_800_000,
      });
    });

    const cases: [string, Partial<AlarmDeployment>, AlarmTargets<string>, string[]][] = [
      ["CloudWatch log groups only", { sourceKinds: ["cloudwatch"], kinesisStreams: [], s3EventQueue: false }, TARGETS, ["dead-letter", "errors", "throttles", "dead-letter-delivery", "records-failed-cloudwatch", "entries-rejected-cloudwatch", "delivery-lag-cloudwatch"]],
      ["Kinesis only", { sourceKinds: ["kinesis"], kinesisStreams: ["s"], asyncSources: false, s3EventQueue: false }, TARGETS, ["dead-letter", "errors", "throttles", "dead-letter-delivery", "iterator-age", "records-failed-kinesis", "entries-rejected-kinesis", "delivery-lag-kinesis"]],
      ["no source at all (no dead-letter queue)", { sourceKinds: [], kinesisStreams: [], asyncSources: false, s3EventQueue: false }, { functionName: "shipper", logGroupName: "/aws/lambda/shipper" }, ["errors", "throttles"]],
      ["metrics off: no alarm on the shipper's own metrics", { sourceKinds: ["sqs"], kinesisStreams: [], asyncSources: false, metricsNamespace: undefined }, TARGETS, ["dead-letter", "errors", "throttles"]],
    ];
    for (const [title, deployment, targets, ids] of cases) {
      it(title, () => {
        expect(planAlarms({ ...EVERYTHING, ...deployment }, DEFAULT_ALARM_THRESHOLDS, targets).map((a) => a.id)).to.deep.equal(ids);
      });
    }

    it("uses the namespace the stack gives the function (metricsNamespace)", () => {
      const plan = planAlarms({ ...EVERYTHING, sourceKinds: ["s3"], metricsNamespace: "Platform/Logs" }, DEFAULT_ALARM_THRESHOLDS, TARGETS);
      expect(plan.filter((a) => !a.namespace.startsWith("AWS/")).map((a) => `${a.namespace} ${a.metricName}`)).to.deep.equal([
        "Platform/Logs RecordsFailed",
        "Platform/Logs EntriesRejected",
        "Platform/Logs DeliveryLagNewest",
      ]);
    });

    it("watches exactly the metric, namespace and dimensions the function's EMF line publishes", () => {
      const stats: ShipStats = { records: 3, failedRecords: 1, entries: 9, bytes: 900, streams: 2, pushes: 2, retries: 0, splits: 0, dropped: 0, rejected: 1, stageDropped: {}, truncatedLines: 0, droppedLongLines: 0, splitLines: 0, shipped: 8, lagNewestMs: 1200, lagOldestMs: 5000 };
      for (const kind of ["cloudwatch", "kinesis", "s3", "sqs", "eventbridge"] as const) {
        const published = parseEmf(new ShipperMetrics({ namespace: "Platform/Logs", functionName: "shipper" }).emfLine(kind, stats)).data;
        const plan = planAlarms({ ...EVERYTHING, sourceKinds: [kind], metricsNamespace: "Platform/Logs" }, DEFAULT_ALARM_THRESHOLDS, TARGETS).filter((a) => a.namespace === "Platform/Logs");
        expect(plan).to.have.length(3);
        for (const alarm of plan) {
          const datum = published.find((d) => d.name === alarm.metricName);
          expect(datum, `${kind} ${alarm.metricName}`).to.not.equal(undefined);
          expect({ namespace: datum?.namespace, dimensions: datum?.dimensions }).to.deep.equal({ namespace: alarm.namespace, dimensions: alarm.dimensions });
          if (alarm.metricName === "DeliveryLagNewest") expect(datum?.unit, "thresholds of ages are in the metric's unit").to.equal("Milliseconds");
        }
      }
    });

    describe("missing data, as CloudWatch evaluates it (a period of 5 minutes per value; undefined: no datapoint)", () => {
      type State = "INSUFFICIENT_DATA" | "OK" | "ALARM";
      /**
       * CloudWatch's documented treatments of missing data: notBreaching counts a missing period
       * as within the threshold, breaching as beyond it, ignore keeps the alarm's state, missing
       * goes to INSUFFICIENT_DATA when the whole evaluation range is missing. A new alarm starts
       * in INSUFFICIENT_DATA. Returns the state after each period.
       */
      function evaluate(spec: Wiring, series: (number | undefined)[]): State[] {
        let state: State = "INSUFFICIENT_DATA";
        return series.map((_, i) => {
          const range = series.slice(Math.max(0, i + 1 - spec.evaluationPeriods), i + 1);
          const breaches = (v: number): boolean => v >= spec.threshold;
          if (range.every((v) => v === undefined)) {
            if (spec.treatMissingData === "ignore") return state;
            if (spec.treatMissingData === "missing") return (state = "INSUFFICIENT_DATA");
          }
          const verdicts = range.map((v) => (v === undefined ? spec.treatMissingData === "breaching" : breaches(v)));
          return (state = verdicts.filter(Boolean).length >= spec.datapointsToAlarm ? "ALARM" : "OK");
        });
      }
      const alarm = (id: string): Wiring => wiring(planAlarms(EVERYTHING, DEFAULT_ALARM_THRESHOLDS, TARGETS).find((a) => a.id === id) as AlarmSpec<string>);
      /** SQS publishes a queue's metrics while it is active: up to six hours (72 periods) after the last API call on it. */
      const sixHoursSilent = Array<undefined>(72).fill(undefined);

      it("dead-letter: stays in ALARM while SQS publishes nothing for an idle queue still holding the messages; OK once a redrive empties it", () => {
        const states = evaluate(alarm("dead-letter"), [0, 0, 2, 2, ...sixHoursSilent, 0]);
        expect(states.slice(0, 4)).to.deep.equal(["OK", "OK", "ALARM", "ALARM"]);
        expect(new Set(states.slice(4, -1)), "no OK sent while the queue still holds them").to.deep.equal(new Set(["ALARM"]));
        expect(states.at(-1)).to.equal("OK");
      });

      it("dead-letter: a new queue, active after its creation and idle since, reads OK, not INSUFFICIENT_DATA", () => {
        expect(evaluate(alarm("dead-letter"), [0, ...sixHoursSilent]).at(-1)).to.equal("OK");
      });

      it("the counts and the lag alarm nothing, and leave ALARM, when the function publishes nothing (nothing happened)", () => {
        for (const id of ["errors", "throttles", "dead-letter-delivery", "iterator-age", "records-failed-kinesis", "entries-rejected-kinesis", "delivery-lag-kinesis"]) {
          const spec = alarm(id);
          const high = spec.threshold;
          expect(evaluate(spec, [undefined, undefined, undefined]), id).to.deep.equal(["OK", "OK", "OK"]);
          const states = evaluate(spec, [...Array<number>(spec.evaluationPeriods).fill(high), ...Array<undefined>(spec.evaluationPeriods).fill(undefined)]);
          expect([states[spec.evaluationPeriods - 1], states.at(-1)], id).to.deep.equal(["ALARM", "OK"]);
        }
      });
    });

    it("names the event kinds of the configured sources as the handler does", () => {
      const kinds = (raw: Record<string, unknown>): string[] => sourceKindsOf(parseStackSettings({ writeAddress: WRITE, ...raw }));
      expect(kinds({})).to.deep.equal([]);
      expect(kinds({ logGroups: ["a"] })).to.deep.equal(["cloudwatch"]);
      expect(kinds({ buckets: ["direct-logs"] })).to.deep.equal(["s3"]);
      expect(kinds({ buckets: [{ name: "queued-logs", delivery: "sqs" }] })).to.deep.equal(["sqs"]);
      expect(kinds({ buckets: [{ name: "bus-logs", delivery: "eventbridge" }] })).to.deep.equal(["eventbridge"]);
      expect(kinds({ kinesisStreams: ["s"], logGroups: ["a"], buckets: ["b-logs", { name: "c-logs", delivery: "sqs" }] })).to.deep.equal(["cloudwatch", "kinesis", "s3", "sqs"]);
    });
  });

  describe("descriptions: what it means and what to do", () => {
    const describeAll = (deployment: AlarmDeployment, targets: AlarmTargets<string>): Record<string, string> =>
      Object.fromEntries(planAlarms(deployment, DEFAULT_ALARM_THRESHOLDS, targets).map((a) => [a.id, a.describe(targets)]));

    it("tells how to inspect the dead-letter queue and redrive it with SQS's built-in redrive, after fixing the cause", () => {
      const text = describeAll(EVERYTHING, TARGETS)["dead-letter"];
      expect(text).to.include("1 message or more in its dead-letter queue");
      expect(text).to.include("find and fix the cause in the log group /aws/lambda/shipper");
      expect(text).to.include("aws sqs receive-message --queue-url https://sqs.us-east-1.amazonaws.com/123456789012/dlq");
      expect(text).to.include('console "Start DLQ redrive", or aws sqs start-message-move-task --source-arn arn:aws:sqs:us-east-1:123456789012:dlq');
      expect(text).to.include("S3 event messages go back to their queue with SQS's redrive");
      expect(text).to.include("Kinesis failure records (re-read the shard range they name) and asynchronous-invocation records (re-invoke with their requestPayload) are replayed by hand");
      expect(text.indexOf("fix the cause")).to.be.below(text.indexOf("start-message-move-task"));
    });

    it("offers redrive only where SQS can redrive: messages that came from the S3 event queue", () => {
      const text = describeAll({ ...EVERYTHING, sourceKinds: ["cloudwatch"], kinesisStreams: [], s3EventQueue: false }, TARGETS)["dead-letter"];
      expect(text).to.not.include("start-message-move-task");
      expect(text).to.include("asynchronous-invocation records (re-invoke with their requestPayload) are replayed by hand");
      expect(text).to.not.include("Kinesis");
    });

    it("says what each alarm means and what to do, in the deployment's own names", () => {
      const text = describeAll({ ...EVERYTHING, reservedConcurrency: 10 }, TARGETS);
      expect(text.errors).to.match(/^lambda-promtail shipper: 1 invocation or more failed per 5 minutes, in 2 of the last 3 \(AWS\/Lambda Errors\)/);
      expect(text.errors).to.include("raise timeout or memorySize");
      expect(text.throttles).to.include("its reserved concurrency (10)");
      expect(text["iterator-age"]).to.include("its Kinesis streams app-logs, cw-logs are read late: the last record of a batch was 300 s old or more for 5 minutes in a row");
      expect(text["records-failed-sqs"]).to.include("(LambdaPromtail/RecordsFailed (source_kind=sqs))");
      expect(text["entries-rejected-s3"]).to.include('"entry too far behind"');
      expect(text["delivery-lag-kinesis"]).to.include("entries 900 s old or more (LambdaPromtail/DeliveryLagNewest (source_kind=kinesis), Minimum)");
      for (const [id, t] of Object.entries(text)) expect(t, id).to.match(/^lambda-promtail shipper: /);
    });

    it("fits CloudWatch's 1024 characters even with the longest names", () => {
      const long = "x".repeat(64);
      const targets: AlarmTargets<string> = {
        functionName: long,
        logGroupName: `/aws/lambda/${long}`,
        deadLetterQueue: { name: "q".repeat(80), arn: `arn:aws-us-gov:sqs:us-gov-west-1:123456789012:${"q".repeat(80)}`, url: `https://sqs.us-gov-west-1.amazonaws.com/123456789012/${"q".repeat(80)}` },
      };
      for (const [id, t] of Object.entries(describeAll({ ...EVERYTHING, kinesisStreams: ["k".repeat(128)] }, targets))) expect(t.length, id).to.be.at.most(MAX_DESCRIPTION);
      expect(fitDescription("y".repeat(2000))).to.have.length(MAX_DESCRIPTION);
    });
  });

  describe("under Pulumi mocks", () => {
    const run = (config: Record<string, unknown>): Promise<ProgramRun> => runProgram({ writeAddress: WRITE, ...config });
    const alarmsOf = (r: ProgramRun): Record<string, RegisteredResource> => Object.fromEntries(r.ofType(ALARM).map((a) => [a.name.slice(`${P}-alarm-`.length), a]));

    it("creates no alarm unless the stack sets alarms", async () => {
      const r = await run({ logGroups: ["app"], kinesisStreams: ["s"], buckets: [{ name: "queued-logs", delivery: "sqs" }] });
      expect(r.ofType(ALARM)).to.deep.equal([]);
    });

    describe("every delivery mode, with a topic", () => {
      let r: ProgramRun;
      before(async () => {
        r = await run({
          logGroups: ["app"],
          buckets: ["direct-logs", { name: "queued-logs", delivery: "sqs" }, { name: "bus-logs", delivery: "eventbridge" }],
          kinesisStreams: ["app-logs"],
          tags: { team: "observability" },
          alarms: { topicArn: TOPIC, thresholds: { deliveryLagSeconds: 600 } },
        });
      });

      it("names the alarms <component>-alarm-<what>", () => {
        expect(Object.keys(alarmsOf(r))).to.deep.equal([
          "dead-letter", "errors", "throttles", "dead-letter-delivery", "iterator-age",
          ...["cloudwatch", "kinesis", "s3", "sqs", "eventbridge"].flatMap((k) => [`records-failed-${k}`, `entries-rejected-${k}`, `delivery-lag-${k}`]),
        ]);
        for (const alarm of r.ofType(ALARM)) expect(alarm.name).to.match(new RegExp(`^${P}-alarm-`));
      });

      it("notifies the topic on ALARM and on OK, and tags every alarm", () => {
        for (const alarm of r.ofType(ALARM)) {
          expect(alarm.inputs, alarm.name).to.deep.include({ alarmActions: [TOPIC], okActions: [TOPIC], tags: { team: "observability" } });
          expect(alarm.inputs, alarm.name).to.not.have.property("insufficientDataActions");
        }
      });

      it("watches the real dead-letter queue, function and namespace", () => {
        const a = alarmsOf(r);
        expect(a["dead-letter"].inputs).to.deep.include({ namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: DLQ.name }, threshold: 1 });
        for (const id of ["errors", "throttles", "dead-letter-delivery", "iterator-age"]) expect(a[id].inputs.dimensions, id).to.deep.equal({ FunctionName: FN_NAME });
        expect(a["records-failed-sqs"].inputs).to.deep.include({ namespace: "LambdaPromtail", metricName: "RecordsFailed", dimensions: { service: FN_NAME, source_kind: "sqs" } });
        expect(a["delivery-lag-eventbridge"].inputs).to.deep.include({ statistic: "Minimum", threshold: 600_000, period: 300, evaluationPeriods: 3, datapointsToAlarm: 3, comparisonOperator: "GreaterThanOrEqualToThreshold", treatMissingData: "notBreaching" });
      });

      it("fills the descriptions with the deployment's names and commands", () => {
        const text = alarmsOf(r)["dead-letter"].inputs.alarmDescription;
        expect(text).to.include(`aws sqs receive-message --queue-url ${DLQ.url}`);
        expect(text).to.include(`aws sqs start-message-move-task --source-arn ${DLQ.arn}`);
        expect(text).to.include("S3 event messages go back to their queue");
        expect(text).to.include(`log group ${LOG_GROUP}`);
        expect(alarmsOf(r).errors.inputs.alarmDescription).to.match(new RegExp(`^lambda-promtail ${FN_NAME}: `));
        expect(alarmsOf(r)["dead-letter-delivery"].inputs.alarmDescription).to.include("sqs:SendMessage");
      });

      it("declares the alarms as children of the component", async () => {
        let component: LambdaPromtail | undefined;
        const settings = parseStackSettings({ writeAddress: WRITE, kinesisStreams: ["s"], alarms: true });
        await runInMocks(() => {
          component = new LambdaPromtail("lp", { settings });
          return {};
        });
        const alarms = Object.values((component as LambdaPromtail).alarms);
        expect(alarms).to.have.length(8);
        for (const alarm of alarms) expect(await valueOf(alarm.urn)).to.match(/::lambda-promtail:index:LambdaPromtail\$aws:cloudwatch\/metricAlarm:MetricAlarm::lp-alarm-/);
      });
    });

    it("follows the function's name and namespace from the stack (functionName, metricsNamespace)", async () => {
      const r = await run({ functionName: "shipper", metricsNamespace: "Platform/Logs", logGroups: ["app"], alarms: true });
      const a = alarmsOf(r);
      expect(a.errors.inputs.dimensions).to.deep.equal({ FunctionName: "shipper" });
      expect(a["entries-rejected-cloudwatch"].inputs).to.deep.include({ namespace: "Platform/Logs", dimensions: { service: "shipper", source_kind: "cloudwatch" } });
      for (const alarm of r.ofType(ALARM)) {
        expect(alarm.inputs, "no topic: no actions").to.not.have.property("alarmActions");
        expect(alarm.inputs).to.not.have.property("okActions");
      }
    });

    it("with metrics off, creates only the alarms on AWS's own metrics", async () => {
      const r = await run({ metrics: false, logGroups: ["app"], alarms: { topicArn: TOPIC } });
      expect(Object.keys(alarmsOf(r))).to.deep.equal(["dead-letter", "errors", "throttles", "dead-letter-delivery"]);
    });

    it("fails at preview, before declaring anything, on a bad alarms value", async () => {
      let err: Error | undefined;
      try {
        await runProgram({ writeAddress: WRITE, alarms: { topicArn: "ops-alerts" } }, { preview: true });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).to.match(/^Invalid stack config "alarms": topicArn "ops-alerts" is not an SNS topic ARN\. Accepted form: /);
    });

    describe("a topic in another region than the stack's (alarms.topicArn)", () => {
      const ELSEWHERE = "arn:aws:sns:eu-west-1:123456789012:ops-alerts";
      const refusal = /^alarms\.topicArn: arn:aws:sns:eu-west-1:123456789012:ops-alerts is a topic in eu-west-1, but the stack creates its alarms in us-east-1, and a CloudWatch alarm can only notify an SNS topic of its own region\. Accepted form: an SNS topic ARN in the stack's region, arn:aws:sns:us-east-1:<account>:<topic>/;
      const failure = async (config: Record<string, unknown>): Promise<Error | undefined> => {
        try {
          await runProgram({ writeAddress: WRITE, logGroups: ["app"], ...config }, { preview: true });
        } catch (e) {
          return e as Error;
        }
        return undefined;
      };
      /** Runs `body` without the region variables of the environment (the provider's second source). */
      const withoutRegionVariables = async <T>(body: () => Promise<T>): Promise<T> => {
        const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
        delete process.env.AWS_REGION;
        delete process.env.AWS_DEFAULT_REGION;
        try {
          return await body();
        } finally {
          for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value;
        }
      };

      it("fails preview with a ConfigError naming the setting, the ARN's form and the stack's region (aws:region)", async () => {
        const err = await withoutRegionVariables(() => failure({ "aws:region": "us-east-1", alarms: { topicArn: ELSEWHERE } }));
        expect(err).to.be.instanceOf(ConfigError);
        expect(err?.message).to.match(refusal);
      });

      it("reads the stack's region from AWS_REGION when the stack config has none, as the provider does", async () => {
        process.env.AWS_REGION = "us-east-1";
        try {
          expect((await failure({ "aws:region": undefined, alarms: { topicArn: ELSEWHERE } }))?.message).to.match(refusal);
        } finally {
          delete process.env.AWS_REGION;
        }
      });

      it("asks the provider for its region when neither names it: the alarms' actions fail with the same ConfigError", async () => {
        // The engine fails the preview on the rejected input (the SDK rethrows it as an unhandled
        // rejection, which the language host reports); the mocks do not, so the output is checked.
        let actions: pulumi.Input<string[]> | undefined;
        await withoutRegionVariables(() => runInMocks(() => {
          pulumi.runtime.setAllConfig({}); // no aws:region
          actions = alarmActions("alarms.topicArn", ELSEWHERE, new pulumi.ComponentResource("test:index:Parent", "parent"));
          return {};
        }));
        expect(pulumi.Output.isInstance(actions), "not decided synchronously without a configured region").to.equal(true);
        const settled = await (actions as unknown as { promise(): Promise<string[]> }).promise().then(() => undefined, (err: unknown) => err as Error);
        expect(settled).to.be.instanceOf(ConfigError);
        expect(settled?.message).to.match(refusal);
      });

      it("accepts a topic of the stack's region, named by the stack config or by the provider", async () => {
        const topic = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
        for (const config of [{ "aws:region": "us-east-1" }, { "aws:region": undefined }]) {
          const r = await withoutRegionVariables(() => runProgram({ writeAddress: WRITE, logGroups: ["app"], alarms: { topicArn: topic }, ...config }, { preview: true }));
          for (const alarm of r.ofType(ALARM)) expect(alarm.inputs.alarmActions).to.deep.equal([topic]);
        }
      });
    });

    it("the example stack (Pulumi.dev.yaml) declares exactly these resources, alarms on", async () => {
      const r = await runProgram(loadStackConfig());
      expect(r.resources.map((x) => `${x.type} ${x.name}`).sort()).to.deep.equal(
        [
          `lambda-promtail:index:LambdaPromtail ${P}`,
          `awsx:ecr:Repository ${P}-repository`,
          `awsx:ecr:Image ${P}-image`,
          `aws:iam/role:Role ${P}-role`,
          `aws:iam/rolePolicy:RolePolicy ${P}-logs`,
          `aws:iam/rolePolicy:RolePolicy ${P}-dead-letter`,
          `aws:cloudwatch/logGroup:LogGroup ${P}-log-group`,
          `aws:lambda/function:Function ${P}-function`,
          `aws:sqs/queue:Queue ${P}-dead-letter`,
          `aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig ${P}-async`,
          `aws:lambda/permission:Permission ${P}-logs-allow-aws-lambda-my-app-fc879d`,
          `aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter ${P}-logs-aws-lambda-my-app-fc879d`,
          `${ALARM} ${P}-alarm-dead-letter`,
          `${ALARM} ${P}-alarm-errors`,
          `${ALARM} ${P}-alarm-throttles`,
          `${ALARM} ${P}-alarm-dead-letter-delivery`,
          `${ALARM} ${P}-alarm-records-failed-cloudwatch`,
          `${ALARM} ${P}-alarm-entries-rejected-cloudwatch`,
          `${ALARM} ${P}-alarm-delivery-lag-cloudwatch`,
        ].sort(),
      );
      expect(alarmsOf(r)["delivery-lag-cloudwatch"].inputs.threshold).to.equal(900_000);
    });
  });
});
