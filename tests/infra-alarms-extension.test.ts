/**
 * The alarms of a function running the telemetry extension (LokiExtension's `alarms`): which
 * alarms and how each is wired, checked as a table on the pure plan; that they watch what the
 * extension's EMF line publishes; their descriptions; validation at preview; and the component
 * under Pulumi mocks.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { ConfigError } from "../handler/config";
import { ExtensionMetrics, zeroTotals } from "../extension/metrics";
import { AlarmSpec, AlarmTargets, MAX_DESCRIPTION } from "../infra/alarmPlan";
import { DEFAULT_EXTENSION_ALARM_THRESHOLDS, extensionAlarmThresholds, planExtensionAlarms } from "../infra/alarmPlanExtension";
import { LokiExtension, type LokiExtensionAlarms } from "../infra/extension";
import { parseEmf } from "./support/emf";
import { runInMocks, type ProgramRun } from "./support/pulumi-mocks";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const WRITE = "https://loki.example.com/loki/api/v1/push";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
const TARGETS: AlarmTargets<string> = { functionName: "orders", logGroupName: "/aws/lambda/orders" };

type Wiring = Omit<AlarmSpec<string, string>, "describe">;
const wiring = ({ describe: _describe, ...rest }: AlarmSpec<string, string>): Wiring => rest;

describe("alarms of a function running the telemetry extension", function () {
  this.timeout(60_000);

  describe("the plan", () => {
    const own = { service: "orders", source_kind: "telemetry" };
    const base = { namespace: "LambdaPromtail", dimensions: own, comparisonOperator: "GreaterThanOrEqualToThreshold" as const, treatMissingData: "notBreaching" as const };
    const atOnce = { statistic: "Sum" as const, period: 300, evaluationPeriods: 1, datapointsToAlarm: 1 };
    const sustained = { statistic: "Sum" as const, period: 300, evaluationPeriods: 3, datapointsToAlarm: 2 };

    it("watches lines lost (memory bound, SHUTDOWN), lines held for later, lines rejected, delivery lag and telemetry Lambda dropped", () => {
      expect(planExtensionAlarms("LambdaPromtail", DEFAULT_EXTENSION_ALARM_THRESHOLDS, TARGETS).map(wiring)).to.deep.equal([
        { id: "entries-lost", ...base, metricName: "EntriesLost", ...atOnce, thresholdKey: "entriesLost", threshold: 1 },
        { id: "entries-lost-at-shutdown", ...base, metricName: "EntriesLostAtShutdown", ...atOnce, thresholdKey: "entriesLostAtShutdown", threshold: 1 },
        { id: "records-failed", ...base, metricName: "RecordsFailed", ...sustained, thresholdKey: "recordsFailed", threshold: 1 },
        { id: "entries-rejected", ...base, metricName: "EntriesRejected", ...atOnce, thresholdKey: "entriesRejected", threshold: 1 },
        { id: "delivery-lag", ...base, metricName: "DeliveryLagNewest", statistic: "Minimum", period: 300, evaluationPeriods: 3, datapointsToAlarm: 3, thresholdKey: "deliveryLagSeconds", threshold: 900_000 },
        { id: "telemetry-dropped", ...base, metricName: "TelemetryDroppedRecords", ...atOnce, thresholdKey: "telemetryDroppedRecords", threshold: 1 },
      ]);
    });

    it("applies every configured threshold over the defaults, ages in milliseconds", () => {
      const thresholds = extensionAlarmThresholds({ entriesLost: 2, entriesLostAtShutdown: 3, recordsFailed: 4, entriesRejected: 5, deliveryLagSeconds: 60, telemetryDroppedRecords: 6 });
      expect(Object.fromEntries(planExtensionAlarms("LambdaPromtail", thresholds, TARGETS).map((a) => [a.id, a.threshold]))).to.deep.equal({
        "entries-lost": 2, "entries-lost-at-shutdown": 3, "records-failed": 4, "entries-rejected": 5, "delivery-lag": 60_000, "telemetry-dropped": 6,
      });
      expect(extensionAlarmThresholds({ recordsFailed: 10 })).to.deep.equal({ ...DEFAULT_EXTENSION_ALARM_THRESHOLDS, recordsFailed: 10 });
    });

    const refused: [string, Record<string, unknown>, RegExp][] = [
      ["an unknown threshold", { entriesDropped: 1 }, /^alarms\.thresholds\.entriesDropped: is not a threshold of the extension's alarms\. Accepted form: one of entriesLost, entriesLostAtShutdown, /],
      ["zero", { entriesLost: 0 }, /^alarms\.thresholds\.entriesLost: 0 is out of range\. Accepted form: a whole number from 1 to 1000000000$/],
      ["a fraction", { deliveryLagSeconds: 1.5 }, /^alarms\.thresholds\.deliveryLagSeconds: 1\.5 is out of range\. Accepted form: a whole number from 1 to 31536000$/],
      ["a string", { recordsFailed: "5" }, /^alarms\.thresholds\.recordsFailed: "5" is out of range/],
    ];
    for (const [title, given, message] of refused) {
      it(`refuses ${title} as a threshold, naming it`, () => {
        expect(() => extensionAlarmThresholds(given)).to.throw(ConfigError, message);
      });
    }

    it("watches exactly the metric, namespace and dimensions the extension's EMF line publishes", () => {
      const lines: string[] = [];
      const metrics = new ExtensionMetrics({ namespace: "Platform/Logs", functionName: "orders", write: (line) => lines.push(line) });
      metrics.publish({ ...zeroTotals(), records: 5, failedRecords: 2, rejected: 1, shipped: 2, lostPastMemoryBound: 1, lostAtShutdown: 1, lambdaDroppedRecords: 3 }, { lagNewestMs: 1200, lagOldestMs: 5000 });
      const published = parseEmf(lines[0]).data;
      const plan = planExtensionAlarms("Platform/Logs", DEFAULT_EXTENSION_ALARM_THRESHOLDS, TARGETS);
      for (const alarm of plan) {
        const datum = published.find((d) => d.name === alarm.metricName);
        expect(datum, alarm.metricName).to.not.equal(undefined);
        expect({ namespace: datum?.namespace, dimensions: datum?.dimensions }).to.deep.equal({ namespace: alarm.namespace, dimensions: alarm.dimensions });
        if (alarm.metricName === "DeliveryLagNewest") expect(datum?.unit, "thresholds of ages are in the metric's unit").to.equal("Milliseconds");
      }
    });

    it("says what each alarm means and what to do, in the function's own names, within CloudWatch's 1024 characters", () => {
      const text = Object.fromEntries(planExtensionAlarms("LambdaPromtail", DEFAULT_EXTENSION_ALARM_THRESHOLDS, TARGETS).map((a) => [a.id, a.describe(TARGETS)]));
      for (const [id, t] of Object.entries(text)) expect(t, id).to.match(/^lambda-promtail telemetry extension of orders: /);
      expect(text["entries-lost"]).to.include("1 line or more dropped in 5 minutes (LambdaPromtail/EntriesLost (source_kind=telemetry))");
      expect(text["entries-lost"]).to.include("raise LOKI_MAX_HELD_BYTES");
      expect(text["entries-lost-at-shutdown"]).to.include('The "lines that never reached Loki" error in /aws/lambda/orders');
      expect(text["records-failed"]).to.include("nothing lost yet");
      expect(text["entries-rejected"]).to.include("set LOKI_MAX_LINE_SIZE to Loki's max_line_size");
      expect(text["delivery-lag"]).to.include("lines 900 s old or more (LambdaPromtail/DeliveryLagNewest (source_kind=telemetry), Minimum)");
      expect(text["telemetry-dropped"]).to.include("from platform.logsDropped");
      // The longest function name, its default log group, and a long namespace (the limit's 255 goes through fitDescription).
      const long = "x".repeat(64);
      const longTargets = { functionName: long, logGroupName: `/aws/lambda/${long}` };
      for (const a of planExtensionAlarms("N".repeat(200), DEFAULT_EXTENSION_ALARM_THRESHOLDS, longTargets)) expect(a.describe(longTargets).length, a.id).to.be.at.most(MAX_DESCRIPTION);
    });
  });

  describe("LokiExtension under Pulumi mocks", () => {
    const program = (settings: Record<string, string>, alarms?: LokiExtensionAlarms, logGroup?: string) => () => {
      const role = new aws.iam.Role("app-role", { assumeRolePolicy: "{}" });
      const fn = new aws.lambda.Function("app", { name: "orders", role: role.arn, runtime: "nodejs22.x", handler: "index.handler" });
      const loki = new LokiExtension("app-loki", {
        layerArn: "arn:aws:lambda:us-east-1:123456789012:layer:lp-x86-64:3", role: role.name, settings,
        ...(logGroup ? { logGroupName: logGroup } : {}),
        ...(alarms ? { alarms: { ...alarms, functionName: alarms.functionName === "" ? fn.name : alarms.functionName } } : {}),
        tags: { team: "orders" },
      });
      return { alarms: Object.keys(loki.alarms), urns: Object.values(loki.alarms).map((a) => a.urn) };
    };
    const failure = async (run: () => Promise<unknown>): Promise<Error | undefined> => {
      try {
        await run();
      } catch (err) {
        return err as Error;
      }
      return undefined;
    };

    it("declares no alarm without `alarms`", async () => {
      const run = await runInMocks(program({ LOKI_WRITE_ADDRESS: WRITE }));
      expect(run.ofType(ALARM)).to.deep.equal([]);
    });

    describe("with alarms, a topic and a namespace of its own", () => {
      let run: ProgramRun;
      before(async () => {
        run = await runInMocks(program({ LOKI_WRITE_ADDRESS: WRITE, LOKI_METRICS_NAMESPACE: "Apps/Logs" }, { functionName: "", topicArn: TOPIC, thresholds: { deliveryLagSeconds: 120 } }, "/custom/orders"));
      });

      it("names them <component>-alarm-<what>, tagged, and the component exposes them as its children", async () => {
        const alarms = run.ofType(ALARM);
        expect(alarms.map((a) => a.name)).to.deep.equal(["entries-lost", "entries-lost-at-shutdown", "records-failed", "entries-rejected", "delivery-lag", "telemetry-dropped"].map((id) => `app-loki-alarm-${id}`));
        for (const alarm of alarms) expect(alarm.inputs.tags).to.deep.equal({ team: "orders" });
        expect(run.outputs.alarms).to.deep.equal(["entries-lost", "entries-lost-at-shutdown", "records-failed", "entries-rejected", "delivery-lag", "telemetry-dropped"]);
        expect(run.outputs.urns).to.have.length(6);
        for (const urn of run.outputs.urns as string[]) expect(urn).to.match(/::lambda-promtail:index:LokiExtension\$aws:cloudwatch\/metricAlarm:MetricAlarm::app-loki-alarm-/);
      });

      it("watches the function's metrics in the extension's namespace, notifying the topic on ALARM and OK", () => {
        for (const alarm of run.ofType(ALARM)) {
          expect(alarm.inputs.namespace).to.equal("Apps/Logs");
          expect(alarm.inputs.dimensions).to.deep.equal({ service: "orders", source_kind: "telemetry" });
          expect(alarm.inputs.alarmActions).to.deep.equal([TOPIC]);
          expect(alarm.inputs.okActions).to.deep.equal([TOPIC]);
        }
        const lag = run.ofType(ALARM).find((a) => a.name.endsWith("-delivery-lag"));
        expect(lag?.inputs.threshold).to.equal(120_000);
      });

      it("fills the descriptions with the function's name and log group", () => {
        for (const alarm of run.ofType(ALARM)) {
          expect(alarm.inputs.alarmDescription).to.match(/^lambda-promtail telemetry extension of orders: /);
          expect(alarm.inputs.alarmDescription).to.include("/custom/orders");
        }
      });
    });

    it("without a log group, names the function's default one; without a topic, notifies no one", async () => {
      const run = await runInMocks(program({ LOKI_WRITE_ADDRESS: WRITE }, { functionName: "orders" }));
      const alarms = run.ofType(ALARM);
      expect(alarms).to.have.length(6);
      for (const alarm of alarms) {
        expect(alarm.inputs.namespace).to.equal("LambdaPromtail");
        expect(alarm.inputs.alarmDescription).to.include("/aws/lambda/orders");
        expect(alarm.inputs.alarmActions).to.equal(undefined);
      }
    });

    it("fails preview with a ConfigError when the topic is in another region than the stack's", async () => {
      const inRegion = (declare: () => Record<string, unknown>) => () => {
        pulumi.runtime.setAllConfig({ "aws:region": "us-east-1" });
        return declare();
      };
      const error = await failure(() => runInMocks(inRegion(program({ LOKI_WRITE_ADDRESS: WRITE }, { functionName: "orders", topicArn: "arn:aws:sns:eu-west-1:123456789012:ops-alerts" })), { preview: true }));
      expect(error).to.be.instanceOf(ConfigError);
      expect(error?.message).to.match(/^alarms\.topicArn: arn:aws:sns:eu-west-1:123456789012:ops-alerts is a topic in eu-west-1, but the stack creates its alarms in us-east-1, .* Accepted form: an SNS topic ARN in the stack's region, arn:aws:sns:us-east-1:<account>:<topic>/);
      const run = await runInMocks(inRegion(program({ LOKI_WRITE_ADDRESS: WRITE }, { functionName: "orders", topicArn: TOPIC })));
      for (const alarm of run.ofType(ALARM)) expect(alarm.inputs.alarmActions).to.deep.equal([TOPIC]);
    });

    const refused: [string, Record<string, string>, LokiExtensionAlarms, RegExp][] = [
      ["LOKI_METRICS=false (nothing to watch)", { LOKI_WRITE_ADDRESS: WRITE, LOKI_METRICS: "false" }, { functionName: "orders" }, /^LOKI_METRICS: is false: the function publishes none of the metrics its alarms would watch\. Accepted form: /],
      ["a bad threshold", { LOKI_WRITE_ADDRESS: WRITE }, { functionName: "orders", thresholds: { entriesLost: 0 } }, /^alarms\.thresholds\.entriesLost: 0 is out of range/],
      ["a topic that is not an SNS topic ARN", { LOKI_WRITE_ADDRESS: WRITE }, { functionName: "orders", topicArn: "arn:aws:sqs:us-east-1:123456789012:q" }, /^alarms\.topicArn: "arn:aws:sqs:us-east-1:123456789012:q" is not an SNS topic ARN\. Accepted form: an SNS topic ARN, arn:aws:sns:<region>:<account>:<topic>/],
    ];
    for (const [title, settings, alarms, message] of refused) {
      it(`fails preview with a ConfigError naming the setting: ${title}`, async () => {
        const error = await failure(() => runInMocks(program(settings, alarms), { preview: true }));
        expect(error).to.be.instanceOf(ConfigError);
        expect(error?.message).to.match(message);
      });
    }
  });
});
