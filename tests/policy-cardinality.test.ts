/**
 * The cardinality policies on hand-built stacks: KEEP_STREAM, relabel rules that leak
 * high-cardinality values, the label-name limit, extra labels unique per deployment.
 */
import { expect } from "chai";
import { extraLabelsPerDeployment } from "../policy/policies/extra-labels-per-deployment";
import { keepStreamLabel } from "../policy/policies/keep-stream-label";
import { labelLimit } from "../policy/policies/label-limit";
import { relabelHighCardinality } from "../policy/policies/relabel-high-cardinality";
import { fake, FakeResource, runPolicy, UNKNOWN, urnOf } from "./support/policy-harness";

const STREAM = "__aws_cloudwatch_log_stream";
const rules = (...r: object[]): string => JSON.stringify(r);

/** A shipper subscribed to one log group. */
function cloudWatchStack(env: Record<string, string>): FakeResource[] {
  const fn = fake.shipper("shipper", env);
  return [fn, fake.subscriptionFilter("checkout-logs", "/aws/lambda/checkout", fn)];
}

describe("policy keep-stream-label", () => {
  it("passes by default and with the stream kept as structured metadata", async () => {
    expect((await runPolicy(keepStreamLabel, cloudWatchStack({}))).violations).to.deep.equal([]);
    expect((await runPolicy(keepStreamLabel, cloudWatchStack({ STRUCTURED_METADATA: "cloudwatch_log_stream" }))).violations).to.deep.equal([]);
  });

  it("fails KEEP_STREAM=true, naming the setting, the source and the structured-metadata fix", async () => {
    const result = await runPolicy(keepStreamLabel, cloudWatchStack({ KEEP_STREAM: "true" }));
    expect(result.violations).to.have.length(1);
    const [v] = result.violations;
    expect(v.level).to.equal("mandatory");
    expect(v.urn).to.equal(urnOf("aws:lambda/function:Function", "shipper"));
    expect(v.message).to.contain("KEEP_STREAM (stack config keepStream) is true").and.contain(`label "${STREAM}"`).and.contain("CloudWatch log group /aws/lambda/checkout");
    expect(v.message).to.contain("add cloudwatch_log_stream to STRUCTURED_METADATA");
  });

  it("passes KEEP_STREAM=true when the stream is dropped before it reaches Loki", async () => {
    expect((await runPolicy(keepStreamLabel, cloudWatchStack({ KEEP_STREAM: "true", DROP_LABELS: STREAM }))).violations).to.deep.equal([]);
    const versionOnly = rules({ source_labels: [STREAM], regex: "\\d{4}/\\d{2}/\\d{2}/\\[([^\\]]+)\\].*", target_label: "version" }, { action: "labeldrop", regex: STREAM });
    expect((await runPolicy(keepStreamLabel, cloudWatchStack({ KEEP_STREAM: "true", RELABEL_CONFIGS: versionOnly }))).violations).to.deep.equal([]);
  });

  it("passes KEEP_STREAM=true on a shipper that only reads S3 objects", async () => {
    const fn = fake.shipper("shipper", { KEEP_STREAM: "true" });
    expect((await runPolicy(keepStreamLabel, [fn, fake.bucketNotification("alb-logs", "my-alb-logs", fn)])).violations).to.deep.equal([]);
  });

  it("evaluates every source kind when the stack declares none, and says so", async () => {
    const [v] = (await runPolicy(keepStreamLabel, [fake.shipper("shipper", { KEEP_STREAM: "true" })])).violations;
    expect(v.message).to.contain("every source kind was evaluated").and.contain("Kinesis stream");
  });

  it("ignores functions that are not the shipper, and can be disabled or made advisory", async () => {
    const other = fake.function("other", { environment: { variables: { KEEP_STREAM: "true" } } });
    expect((await runPolicy(keepStreamLabel, [other])).violations).to.deep.equal([]);
    expect((await runPolicy(keepStreamLabel, cloudWatchStack({ KEEP_STREAM: "true" }), { "keep-stream-label": "disabled" })).violations).to.deep.equal([]);
    const [v] = (await runPolicy(keepStreamLabel, cloudWatchStack({ KEEP_STREAM: "true" }), { "keep-stream-label": { enforcementLevel: "advisory" } })).violations;
    expect(v.level).to.equal("advisory");
  });
});

describe("policy relabel-high-cardinality", () => {
  it("passes the example stack's rule and label-only copies of low-cardinality labels", async () => {
    const env = { RELABEL_CONFIGS: rules({ source_labels: ["__aws_cloudwatch_log_group"], target_label: "log_group" }, { source_labels: ["__aws_log_type"], target_label: "type" }) };
    expect((await runPolicy(relabelHighCardinality, cloudWatchStack(env))).violations).to.deep.equal([]);
  });

  it("fails a rule copying the log stream into a label, naming the rule's target and the fix", async () => {
    const env = { KEEP_STREAM: "true", RELABEL_CONFIGS: rules({ source_labels: [STREAM], target_label: "stream" }, { action: "labeldrop", regex: STREAM }) };
    const { violations } = await runPolicy(relabelHighCardinality, cloudWatchStack(env));
    expect(violations).to.have.length(1);
    expect(violations[0].level).to.equal("mandatory");
    expect(violations[0].message).to.contain(`RELABEL_CONFIGS (stack config relabelConfigs) on function "shipper" puts ${STREAM} into label "stream"`);
    expect(violations[0].message).to.contain("Lambda streams").and.contain("STRUCTURED_METADATA").and.contain("lowCardinalityLabels");
  });

  it("does not report the stream passing through unchanged (keep-stream-label does)", async () => {
    expect((await runPolicy(relabelHighCardinality, cloudWatchStack({ KEEP_STREAM: "true" }))).violations).to.deep.equal([]);
  });

  it("accepts a target label on the lowCardinalityLabels allow-list", async () => {
    const env = { KEEP_STREAM: "true", DROP_LABELS: "", RELABEL_CONFIGS: rules({ action: "hashmod", source_labels: [STREAM], target_label: "shard", modulus: 4 }, { action: "labeldrop", regex: STREAM }) };
    expect((await runPolicy(relabelHighCardinality, cloudWatchStack(env))).violations).to.have.length(1);
    expect((await runPolicy(relabelHighCardinality, cloudWatchStack(env), { "relabel-high-cardinality": { lowCardinalityLabels: ["shard"] } })).violations).to.deep.equal([]);
  });

  it("fails a labelmap of every __aws_* label, even without KEEP_STREAM", async () => {
    const { violations } = await runPolicy(relabelHighCardinality, cloudWatchStack({ RELABEL_CONFIGS: rules({ action: "labelmap", regex: "__aws_(.*)" }) }));
    expect(violations.map((v) => v.message)).to.have.length(1);
    expect(violations[0].message).to.contain('rule 0 on function "shipper" (labelmap, regex "__aws_(.*)") copies every __aws_* label');
  });

  it("fails copying a date-partitioned CloudFront key prefix on an S3 shipper", async () => {
    const fn = fake.shipper("shipper", { RELABEL_CONFIGS: rules({ source_labels: ["__aws_s3_cloudfront_owner"], target_label: "prefix" }) });
    const { violations } = await runPolicy(relabelHighCardinality, [fn, fake.bucketNotification("cf", "cf-logs", fn)]);
    expect(violations).to.have.length(1);
    expect(violations[0].message).to.contain('puts __aws_s3_cloudfront_owner into label "prefix" for "S3 CloudFront logs in bucket cf-logs"');
  });
});

describe("policy label-limit", () => {
  const extra = (n: number): string => Array.from({ length: n }, (_, i) => `l${i},v${i}`).join(",");

  it("passes a stack within the limit, service_name included", async () => {
    // 3 CloudWatch labels + 11 extra + service_name = 15.
    expect((await runPolicy(labelLimit, cloudWatchStack({ EXTRA_LABELS: extra(11) }))).violations).to.deep.equal([]);
  });

  it("fails above the limit, listing the labels and counting Loki's service_name", async () => {
    const { violations } = await runPolicy(labelLimit, cloudWatchStack({ EXTRA_LABELS: extra(12) }));
    expect(violations).to.have.length(1);
    expect(violations[0].level).to.equal("mandatory");
    expect(violations[0].message).to.contain("would carry 16 label names").and.contain("plus service_name added by Loki").and.contain("above the limit of 15");
    expect(violations[0].message).to.contain("DROP_LABELS (stack config dropLabels)");
  });

  it("counts tag labels, honours drops, and reads the limit and service_name from the config", async () => {
    const env = { EXTRA_LABELS: extra(10), TAG_LABELS: "team,service" };
    expect((await runPolicy(labelLimit, cloudWatchStack(env))).violations).to.have.length(1);
    expect((await runPolicy(labelLimit, cloudWatchStack({ ...env, DROP_LABELS: "__aws_cloudwatch_owner" }))).violations).to.deep.equal([]);
    expect((await runPolicy(labelLimit, cloudWatchStack(env), { "label-limit": { maxLabelNames: 20 } })).violations).to.deep.equal([]);
    expect((await runPolicy(labelLimit, cloudWatchStack({ EXTRA_LABELS: extra(12) }), { "label-limit": { lokiAddsServiceName: false } })).violations).to.deep.equal([]);
  });

  it("counts what relabel rules add (a labelmap doubling the labels)", async () => {
    const env = { EXTRA_LABELS: extra(9), RELABEL_CONFIGS: rules({ action: "labelmap", regex: "__aws_(.*)" }) };
    expect((await runPolicy(labelLimit, cloudWatchStack({ EXTRA_LABELS: extra(9) }))).violations).to.deep.equal([]);
    const [v] = (await runPolicy(labelLimit, cloudWatchStack(env))).violations;
    expect(v.message).to.contain("cloudwatch_log_group, cloudwatch_owner");
  });
});

describe("policy extra-labels-per-deployment", () => {
  it("passes stable extra labels", async () => {
    expect((await runPolicy(extraLabelsPerDeployment, cloudWatchStack({ EXTRA_LABELS: "env,prod,team,payments" }))).violations).to.deep.equal([]);
  });

  it("reports a git SHA or timestamp under the name it reaches Loki with, as advisory", async () => {
    const env = { EXTRA_LABELS: "build,3f2a9c1e,deployed,2024-05-01T12:00:00Z", RELABEL_CONFIGS: rules({ action: "labelmap", regex: "__extra_(.*)" }, { action: "labeldrop", regex: "__extra_.*" }) };
    const { violations } = await runPolicy(extraLabelsPerDeployment, cloudWatchStack(env));
    expect(violations.map((v) => v.level)).to.deep.equal(["advisory", "advisory"]);
    expect(violations[0].message).to.contain('sets __extra_build="3f2a9c1e", which looks like a git commit SHA: it reaches Loki as label "build"');
    expect(violations[1].message).to.contain("an ISO 8601 timestamp");
  });

  it("passes a per-deployment value that is dropped, or allow-listed", async () => {
    expect((await runPolicy(extraLabelsPerDeployment, cloudWatchStack({ EXTRA_LABELS: "build,3f2a9c1e", DROP_LABELS: "__extra_build" }))).violations).to.deep.equal([]);
    expect((await runPolicy(extraLabelsPerDeployment, cloudWatchStack({ EXTRA_LABELS: "build,3f2a9c1e" }), { "extra-labels-per-deployment": { lowCardinalityLabels: ["__extra_build"] } })).violations).to.deep.equal([]);
  });
});

describe("cardinality policies at preview", () => {
  it("note they cannot run when a label setting is unknown, and check the other shippers", async () => {
    const computed = fake.shipper("computed", { RELABEL_CONFIGS: UNKNOWN });
    const known = fake.shipper("known", { KEEP_STREAM: "true" });
    const result = await runPolicy(keepStreamLabel, [computed, known]);
    expect(result.violations.map((v) => v.urn)).to.deep.equal([urnOf("aws:lambda/function:Function", "known")]);
    expect(result.previewNotes.map((n) => n.message)).to.deep.equal([
      "can't run policy 'keep-stream-label' during preview: string value at .environment.variables.RELABEL_CONFIGS can't be known during preview",
    ]);
  });

  it("skip a function whose whole environment is computed", async () => {
    const fn = fake.function("computed", { environment: { variables: UNKNOWN } });
    const result = await runPolicy(keepStreamLabel, [fn]);
    expect(result.violations).to.deep.equal([]);
    expect(result.previewNotes).to.deep.equal([]);
  });

  it("find the sources through dependencies when ARNs are unknown", async () => {
    const fn = fake.shipper("shipper", { KEEP_STREAM: "true" });
    fn.outputs = { ...fn.outputs, arn: UNKNOWN };
    const filter = fake.subscriptionFilter("filter", "/aws/ecs/payments", fn);
    filter.inputs.destinationArn = UNKNOWN;
    const other = fake.shipper("other");
    const [v] = (await runPolicy(keepStreamLabel, [fn, filter, other])).violations;
    expect(v.message).to.contain("CloudWatch log group /aws/ecs/payments").and.not.contain("every source kind");
  });
});
