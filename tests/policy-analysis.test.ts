/**
 * The policy pack's pure analysis: base labels per source (checked against the handler's own
 * code), where high-cardinality values end up after the relabel engine, label counts, values
 * unique per deployment, write address exposure, unknown values at preview.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parseShipperConfig } from "../handler/config";
import { createLabelPipeline } from "../handler/labels/pipeline";
import { compileRelabelConfigs } from "../handler/labels/relabel";
import { tagsToLabels } from "../handler/tags";
import { blanketLabelMaps, finalLabelNames, findLeaks, pipelineFor } from "../policy/analysis/cardinality";
import { perDeploymentShape } from "../policy/analysis/deployment-values";
import { ALL_SOURCE_KINDS, labelSetTemplates, LabelOptions, STREAM_LABEL, tagLabels } from "../policy/analysis/source-labels";
import { classifyWriteAddress, DEFAULT_PRIVATE_HOST_SUFFIXES } from "../policy/analysis/write-address";
import { parseSettings, readEnvironment, SHIPPER_FUNCTION, shipperEnvironments } from "../policy/lib/environment";
import { isUnknown, readPath, UNKNOWN_SENTINEL } from "../policy/lib/unknowns";
import { unknownCheckingProxy } from "@pulumi/policy";

const NO_TAGS: LabelOptions = { keepStream: false, tagLabels: [], tagLabelsPrefix: "__aws_tag_" };
const config = (env: Record<string, string>) => parseShipperConfig({ WRITE_ADDRESS: "https://loki.example.com/loki/api/v1/push", ...env });
const pipeline = (env: Record<string, string>) => pipelineFor(config(env));
const cloudWatch = (opts: Partial<LabelOptions> = {}) => labelSetTemplates({ kind: "cloudwatch", key: "/aws/lambda/checkout" }, { ...NO_TAGS, ...opts })[0];

describe("policy analysis: base labels per source", () => {
  it("gives CloudWatch entries lambda-promtail's labels, the stream only with KEEP_STREAM", () => {
    expect(cloudWatch().base).to.deep.equal({ __aws_log_type: "cloudwatch", __aws_cloudwatch_log_group: "/aws/lambda/checkout", __aws_cloudwatch_owner: "123456789012" });
    expect(cloudWatch().varying).to.deep.equal([]);
    const kept = cloudWatch({ keepStream: true });
    expect(kept.base).to.have.property(STREAM_LABEL);
    expect(kept.varying.map((v) => v.name)).to.deep.equal([STREAM_LABEL]);
  });

  it("gives Kinesis both CloudWatch-payload and raw-record label sets, with the stream ARN", () => {
    const arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/logs";
    const [payload, raw] = labelSetTemplates({ kind: "kinesis", key: arn }, NO_TAGS);
    expect(payload.base).to.include({ __aws_log_type: "kinesis", __aws_kinesis_event_source_arn: arn });
    expect(payload.base).to.have.property("__aws_cloudwatch_log_group");
    expect(raw.base).to.deep.equal({ __aws_log_type: "kinesis", __aws_kinesis_event_source_arn: arn });
  });

  it("derives every S3 format's labels from the handler's key classifier", () => {
    const s3 = labelSetTemplates({ kind: "s3" }, NO_TAGS);
    expect(s3.map((t) => t.base.__aws_log_type)).to.deep.equal(["s3_lb", "s3_vpc_flow", "s3_cloudtrail", "s3_cloudfront", "s3_waf", "s3_guardduty", "s3_access", "s3_msk"]);
    expect(s3[0].base).to.deep.equal({ __aws_log_type: "s3_lb", __aws_s3_lb: "example-alb", __aws_s3_lb_owner: "123456789012" });
    expect(s3.find((t) => t.base.__aws_log_type === "s3_cloudfront")?.varying.map((v) => v.name)).to.deep.equal(["__aws_s3_cloudfront_owner"]);
    expect(s3.find((t) => t.base.__aws_log_type === "s3_msk")?.base).to.deep.equal({
      __aws_log_type: "s3_msk", __aws_s3_msk: "example-cluster-0a1b2c3d-4e5f-6789-abcd-ef0123456789-3", __aws_s3_msk_owner: "123456789012",
    });
  });

  it("names tag labels exactly as the handler's tagsToLabels does", () => {
    const rules = config({ TAG_LABELS: "team,cost-center=cost_center,team:owner" }).tagLabels;
    const handler = tagsToLabels({ team: "a", "cost-center": "b", "team:owner": "c" }, rules, "__aws_tag_");
    expect(Object.keys(tagLabels(rules, "__aws_tag_")).sort()).to.deep.equal(Object.keys(handler).sort());
  });

  it("puts tag labels under the source's own labels on CloudWatch payloads only", () => {
    const opts = { ...NO_TAGS, tagLabels: config({ TAG_LABELS: "team" }).tagLabels };
    expect(cloudWatch(opts).base).to.have.property("__aws_tag_team");
    expect(labelSetTemplates({ kind: "kinesis" }, opts)[1].base).to.not.have.property("__aws_tag_team");
    expect(labelSetTemplates({ kind: "s3" }, opts).every((t) => !("__aws_tag_team" in t.base))).to.equal(true);
  });
});

describe("policy analysis: high-cardinality values through the relabel engine", () => {
  it("sees the log stream reach Loki unchanged with KEEP_STREAM and nothing else", () => {
    const [leak] = findLeaks(cloudWatch({ keepStream: true }), pipeline({}));
    expect(leak).to.include({ label: STREAM_LABEL, passesThrough: true, namesFromValue: false });
    expect(leak.into).to.deep.equal([STREAM_LABEL]);
  });

  it("finds a rule copying the stream, even after the stream itself is dropped", () => {
    const rules = JSON.stringify([
      { source_labels: [STREAM_LABEL], target_label: "stream" },
      { action: "labeldrop", regex: STREAM_LABEL },
    ]);
    const [leak] = findLeaks(cloudWatch({ keepStream: true }), pipeline({ RELABEL_CONFIGS: rules }));
    expect(leak.into).to.deep.equal(["stream"]);
    expect(leak.passesThrough).to.equal(false);
  });

  it("sees through transformations: lowercase, hashing with a large modulus, partial extraction of ids", () => {
    for (const rule of [
      { action: "lowercase", source_labels: [STREAM_LABEL], target_label: "s" },
      { action: "hashmod", source_labels: [STREAM_LABEL], target_label: "s", modulus: 1000000 },
      { source_labels: [STREAM_LABEL], regex: ".*\\](.{8}).*", target_label: "s" },
    ]) {
      const rules = JSON.stringify([rule, { action: "labeldrop", regex: STREAM_LABEL }]);
      expect(findLeaks(cloudWatch({ keepStream: true }), pipeline({ RELABEL_CONFIGS: rules })).flatMap((l) => l.into), JSON.stringify(rule)).to.deep.equal(["s"]);
    }
  });

  it("accepts extracting a stable part of the stream (the Lambda version)", () => {
    const rules = JSON.stringify([
      { source_labels: [STREAM_LABEL], regex: "\\d{4}/\\d{2}/\\d{2}/\\[([^\\]]+)\\].*", target_label: "version" },
      { action: "labeldrop", regex: STREAM_LABEL },
    ]);
    expect(findLeaks(cloudWatch({ keepStream: true }), pipeline({ RELABEL_CONFIGS: rules }))).to.deep.equal([]);
  });

  it("reports label names built from the value (a templated target_label)", () => {
    const rules = JSON.stringify([
      { source_labels: [STREAM_LABEL], regex: ".*\\]([0-9a-f]{6}).*", target_label: "s_$1", replacement: "x" },
      { action: "labeldrop", regex: STREAM_LABEL },
    ]);
    const [leak] = findLeaks(cloudWatch({ keepStream: true }), pipeline({ RELABEL_CONFIGS: rules }));
    expect(leak.namesFromValue).to.equal(true);
  });

  it("finds nothing when DROP_LABELS removes the stream before relabeling", () => {
    const rules = JSON.stringify([{ source_labels: [STREAM_LABEL], target_label: "stream" }]);
    expect(findLeaks(cloudWatch({ keepStream: true }), pipeline({ DROP_LABELS: STREAM_LABEL, RELABEL_CONFIGS: rules }))).to.deep.equal([]);
  });

  it("flags labelmap rules that copy every __aws_* label, and only those", () => {
    const rules = compileRelabelConfigs([
      { action: "labelmap", regex: "__aws_(.*)" },
      { action: "labelmap", regex: "__aws_cloudwatch_(.*)" },
      { action: "labelmap", regex: "(.*)", replacement: "copy_$1" },
      { action: "labelmap", regex: "__aws_(log_type|cloudwatch_log_group)" },
    ]);
    expect(blanketLabelMaps(rules)).to.deep.equal([0, 2]);
  });

  it("counts the final label names with extra labels, tag labels, drops and rules", () => {
    const env = { EXTRA_LABELS: "env,dev,team,core", OMIT_EXTRA_LABELS_PREFIX: "true", DROP_LABELS: "__aws_cloudwatch_owner", TAG_LABELS: "service" };
    const c = config(env);
    const template = labelSetTemplates({ kind: "cloudwatch" }, { keepStream: false, tagLabels: c.tagLabels, tagLabelsPrefix: c.tagLabelsPrefix })[0];
    expect(finalLabelNames(template, pipelineFor(c))).to.deep.equal(["__aws_cloudwatch_log_group", "__aws_log_type", "__aws_tag_service", "env", "team"]);
  });

  it("agrees with the handler's pipeline on every representative label set", () => {
    const env = { EXTRA_LABELS: "env,dev", RELABEL_CONFIGS: JSON.stringify([{ source_labels: ["__aws_log_type"], target_label: "type" }]) };
    const c = config(env);
    const handler = createLabelPipeline({ extraLabels: c.extraLabels, dropLabels: c.dropLabels, relabelRules: c.relabelRules });
    for (const source of ALL_SOURCE_KINDS) {
      for (const template of labelSetTemplates(source, NO_TAGS)) {
        expect(pipelineFor(c)(template.base)).to.deep.equal({ ...handler(template.base)?.labels });
      }
    }
  });
});

describe("policy analysis: values, addresses, unknowns", () => {
  it("recognises values unique per deployment and leaves ordinary ones alone", () => {
    expect(perDeploymentShape("0e1f2a3b-4c5d-6e7f-8a9b-0c1d2e3f4a5b")).to.equal("a UUID");
    expect(perDeploymentShape("2024-05-01T12:00:00Z")).to.equal("an ISO 8601 timestamp");
    expect(perDeploymentShape("1714564800")).to.equal("a Unix timestamp");
    expect(perDeploymentShape("3f2a9c1")).to.equal("a git commit SHA");
    expect(perDeploymentShape("9fceb02d0ae598e95dc970b74767f19372d61af8")).to.equal("a git commit SHA");
    for (const ordinary of ["prod", "dev", "eu-west-1", "v2", "cafe", "2024", "deadbeef", "1234567", "payments"]) {
      expect(perDeploymentShape(ordinary), ordinary).to.equal(undefined);
    }
  });

  it("tells public plain-HTTP write addresses from private ones", () => {
    const kind = (url: string) => classifyWriteAddress(url, DEFAULT_PRIVATE_HOST_SUFFIXES).kind;
    expect(kind("https://logs.example.com/loki/api/v1/push")).to.equal("https");
    for (const url of ["http://loki.example.com/x", "http://8.8.8.8:3100/x", "http://[2001:db8::1]/x", "http://172.32.0.1/x"]) expect(kind(url), url).to.equal("public-http");
    for (const url of ["http://localhost:3100/x", "http://127.0.0.1/x", "http://10.1.2.3/x", "http://172.16.0.9/x", "http://192.168.1.1/x", "http://[::1]/x", "http://[fd00::1]/x", "http://loki/x", "http://loki.monitoring.svc.cluster.local/x", "http://loki.internal/x"]) {
      expect(kind(url), url).to.equal("private-http");
    }
  });

  it("uses the engine's unknown sentinel and reads unknown values without throwing", () => {
    expect(UNKNOWN_SENTINEL).to.equal(pulumi.runtime.unknownValue);
    const props = unknownCheckingProxy({ environment: { variables: { WRITE_ADDRESS: UNKNOWN_SENTINEL, KEEP_STREAM: "true" } } });
    expect(() => props.environment.variables.WRITE_ADDRESS).to.throw();
    expect(isUnknown(readPath(props, ["environment", "variables", "WRITE_ADDRESS"]))).to.equal(true);
    const env = readEnvironment(props);
    if (isUnknown(env) || env === undefined) throw new Error("expected an environment");
    expect([...env.unknown]).to.deep.equal(["WRITE_ADDRESS"]);
    expect(env.values).to.deep.equal({ KEEP_STREAM: "true" });
    // An unknown WRITE_ADDRESS still marks the shipper.
    const [shipper] = shipperEnvironments(props);
    expect(shipper.kind).to.equal(SHIPPER_FUNCTION);
    const parsed = parseSettings(shipper, []);
    expect(parsed.ok && parsed.config.keepStream).to.equal(true);
    expect(() => parseSettings(shipper, ["WRITE_ADDRESS"])).to.throw(/can't be known during preview/);
  });
});
