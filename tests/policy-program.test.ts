/**
 * The pack on what the Pulumi program actually declares: the example stack (Pulumi.dev.yaml)
 * run under mocks passes with no mandatory violation, and the same stack with a cardinality or
 * security mistake fails with the expected messages.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { policies } from "../policy/policies";
import { FakeResource, fromProgramRun, PackResult, runPack } from "./support/policy-harness";
import { loadStackConfig, runProgram, RunOptions } from "./support/pulumi-mocks";

const STREAM = "__aws_cloudwatch_log_stream";

async function packOn(overrides: Record<string, unknown> = {}, options: RunOptions = {}): Promise<PackResult> {
  const config = { ...loadStackConfig(), ...overrides };
  for (const [key, value] of Object.entries(config)) if (value === undefined) delete config[key];
  return runPack(policies, fromProgramRun(await runProgram(config, options)));
}

describe("policy pack on the Pulumi program (mocks)", function () {
  // The first run loads the program and the AWS provider SDK.
  this.timeout(60_000);

  it("passes the example stack with no violation at all", async () => {
    const result = await packOn();
    expect(result.violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    expect(result.previewNotes).to.deep.equal([]);
  });

  it("passes the example stack at preview too", async () => {
    const result = await packOn({}, { preview: true });
    expect(result.mandatory()).to.deep.equal([]);
  });

  it("passes every delivery mode the program offers, with credentials stored as secrets", async () => {
    const result = await packOn(
      {
        buckets: [{ name: "alb-logs", delivery: "sqs" }, { name: "trail-logs", delivery: "eventbridge" }, "flow-logs"],
        kinesisStreams: ["cw-logs"],
        username: "123456",
        password: "glc_secret",
      },
      { secretKeys: ["username", "password"] },
    );
    expect(result.violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
  });

  it("sees the program's mappings, queues and log group: weakened copies of them fail", async () => {
    const run = await runProgram({ ...loadStackConfig(), buckets: [{ name: "alb-logs", delivery: "sqs" }], kinesisStreams: ["cw-logs"] });
    const weakened = fromProgramRun(run).map((r): FakeResource => {
      const strip = (...keys: string[]): FakeResource => {
        const drop = (props: Record<string, unknown>) => Object.fromEntries(Object.entries(props).filter(([k]) => !keys.includes(k)));
        return { ...r, inputs: drop(r.inputs), outputs: drop(r.outputs ?? r.inputs) };
      };
      if (r.type === "aws:lambda/eventSourceMapping:EventSourceMapping") return strip("functionResponseTypes", "bisectBatchOnFunctionError", "destinationConfig");
      if (r.type === "aws:sqs/queue:Queue" && r.name.endsWith("s3-events")) return strip("redrivePolicy", "visibilityTimeoutSeconds");
      if (r.type === "aws:cloudwatch/logGroup:LogGroup") return strip("retentionInDays");
      return r;
    });
    const result = await runPack(policies, weakened);
    expect(result.violations.map((v) => `${v.policy} ${v.urn?.split("::").pop()}`).sort()).to.deep.equal([
      "kinesis-failure-handling lambda-promtail-kinesis-cw-logs",
      "log-group-retention lambda-promtail-log-group",
      "report-batch-item-failures lambda-promtail-kinesis-cw-logs",
      "report-batch-item-failures lambda-promtail-s3-events",
      "sqs-dead-letter-queue lambda-promtail-s3-events",
      "sqs-visibility-timeout lambda-promtail-s3-events",
    ]);
  });

  it("fails keepStream=true, naming the setting and pointing to structured metadata", async () => {
    const result = await packOn({ keepStream: true });
    expect(result.mandatory().map((v) => v.policy)).to.deep.equal(["keep-stream-label"]);
    expect(result.messages("keep-stream-label")[0])
      .to.contain('KEEP_STREAM (stack config keepStream) is true on function "lambda-promtail-function"')
      .and.contain(`label "${STREAM}" for "CloudWatch log group /aws/lambda/my-app"`)
      .and.contain("STRUCTURED_METADATA already carries cloudwatch_log_stream");
  });

  it("fails skipTlsVerify=true", async () => {
    const result = await packOn({ skipTlsVerify: true });
    expect(result.mandatory().map((v) => v.policy)).to.deep.equal(["skip-tls-verify"]);
    expect(result.messages("skip-tls-verify")[0]).to.contain('SKIP_TLS_VERIFY (stack config skipTlsVerify) is true on function "lambda-promtail-function"');
  });

  it("fails a relabel rule that copies the log stream into a label", async () => {
    const relabelConfigs = [
      { source_labels: ["__aws_cloudwatch_log_group"], target_label: "log_group" },
      { source_labels: [STREAM], target_label: "stream" },
      { action: "labeldrop", regex: STREAM },
    ];
    const result = await packOn({ keepStream: true, relabelConfigs });
    expect(result.messages("relabel-high-cardinality")).to.have.length(1);
    expect(result.messages("relabel-high-cardinality")[0]).to.contain(`puts ${STREAM} into label "stream" for "CloudWatch log group /aws/lambda/my-app"`);
    // The stream still reaches Loki, under another name: KEEP_STREAM is reported too.
    expect(result.messages("keep-stream-label")[0]).to.contain('label "stream"');
  });

  it("judges stageConfigs: a level label passes, a request id label fails", async () => {
    const json = { json: { expressions: { level: "", request_id: "requestId" } } };
    expect((await packOn({ stageConfigs: [json, { labels: { level: "" } }, { structured_metadata: { request_id: "" } }] })).violations).to.deep.equal([]);
    const result = await packOn({ stageConfigs: [json, { labels: { level: "", request_id: "" } }] });
    expect(result.mandatory().map((v) => v.policy)).to.deep.equal(["stage-label-high-cardinality"]);
    expect(result.mandatory()[0].message).to.contain('makes label "request_id" (LOKI_STAGE_CONFIGS[1].labels.request_id)').and.contain('"requestId" names an identifier');
  });

  it("fails a labelmap of every __aws_* label", async () => {
    const result = await packOn({ relabelConfigs: [{ action: "labelmap", regex: "__aws_(.*)" }] });
    expect(result.mandatory().map((v) => v.policy)).to.deep.equal(["relabel-high-cardinality"]);
    expect(result.mandatory()[0].message).to.contain('(labelmap, regex "__aws_(.*)") copies every __aws_* label');
  });
});

describe("policy pack on the Pulumi program with the telemetry extension (mocks)", function () {
  this.timeout(60_000);
  const program = path.join(__dirname, "fixtures", "programs", "app-with-extension.ts");
  const WRITE = "https://logs.example.net/loki/api/v1/push";
  let dir: string;
  let zip: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-layer-"));
    zip = path.join(dir, "extension.zip");
    fs.writeFileSync(zip, "PK");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The example stack with extensionLayer on, and the user's function with these LOKI_* settings. */
  async function packOnApp(lokiSettings: Record<string, string>): Promise<PackResult> {
    const config = { ...loadStackConfig(), extensionLayer: true, extensionLayerZip: zip, "app:lokiSettings": lokiSettings };
    const run = await runProgram(config, { program });
    expect(run.ofType("aws:lambda/layerVersion:LayerVersion")).to.have.length(2);
    expect(run.one("aws:lambda/function:Function", "app").inputs.layers).to.have.length(1);
    return runPack(policies, fromProgramRun(run));
  }

  it("passes the example stack and a function with sound extension settings, leaving the function with other LOKI_ variables alone", async () => {
    const result = await packOnApp({ LOKI_WRITE_ADDRESS: WRITE, LOKI_EXTRA_LABELS: "team,orders", LOKI_STRUCTURED_METADATA: "lambda_request_id" });
    expect(result.violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
  });

  const failing: { name: string; settings: Record<string, string>; policy: string; message: string }[] = [
    { name: "LOKI_SKIP_TLS_VERIFY=true", settings: { LOKI_SKIP_TLS_VERIFY: "true" }, policy: "skip-tls-verify", message: 'LOKI_SKIP_TLS_VERIFY is true on the telemetry extension of function "app"' },
    {
      name: "a labelmap of every __aws_* label",
      settings: { LOKI_RELABEL_CONFIGS: '[{"action":"labelmap","regex":"__aws_(.*)"}]' },
      policy: "relabel-high-cardinality",
      message: 'LOKI_RELABEL_CONFIGS rule 0 on the telemetry extension of function "app" (labelmap, regex "__aws_(.*)")',
    },
    {
      name: "ten extra labels",
      settings: { LOKI_EXTRA_LABELS: Array.from({ length: 10 }, (_, i) => `l${i},v`).join(",") },
      policy: "label-limit",
      message: 'Entries of the telemetry extension of function "app" from "telemetry of function orders" would carry 16 label names',
    },
  ];
  for (const c of failing) {
    it(`fails ${c.name} on the user's function`, async () => {
      const result = await packOnApp({ LOKI_WRITE_ADDRESS: WRITE, ...c.settings });
      expect(result.mandatory().map((v) => `${v.policy} ${v.urn?.split("::").pop()}`)).to.deep.equal([`${c.policy} app`]);
      expect(result.messages(c.policy)[0]).to.contain(c.message);
    });
  }
});

