import { expect } from "chai";
import { ConfigError, DEFAULT_BATCH_SIZE, parseShipperConfig, SETTINGS } from "../handler/config";

const BASE = { WRITE_ADDRESS: "https://loki.example.com/loki/api/v1/push" };

function errorFor(env: Record<string, string>): ConfigError {
  try {
    parseShipperConfig({ ...BASE, ...env });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("shipper configuration", () => {
  it("applies lambda-promtail's defaults when only WRITE_ADDRESS is set", () => {
    const c = parseShipperConfig(BASE);
    expect(c.writeAddress).to.equal(BASE.WRITE_ADDRESS);
    expect(c.batchSize).to.equal(DEFAULT_BATCH_SIZE).and.to.equal(1048576);
    expect(c.keepStream).to.equal(false);
    expect(c.printLogLine).to.equal(false, "PRINT_LOG_LINE defaults to false, unlike lambda-promtail");
    expect(c.skipTlsVerify).to.equal(false);
    expect(c.logLevel).to.equal("info");
    expect(c.extraLabels).to.deep.equal({});
    expect(c.dropLabels).to.deep.equal([]);
    expect(c.relabelRules).to.deep.equal([]);
    expect(c.structuredMetadata).to.deep.equal([]);
    expect(c.username).to.equal(undefined);
    expect(c.bearerToken).to.equal(undefined);
  });

  it("reads every setting in its accepted form", () => {
    const c = parseShipperConfig({
      WRITE_ADDRESS: "http://127.0.0.1:3100/loki/api/v1/push",
      USERNAME: "12345",
      PASSWORD: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki-password-AbCdEf",
      TENANT_ID: "team-a",
      KEEP_STREAM: "TRUE",
      BATCH_SIZE: "65536",
      EXTRA_LABELS: "env,prod,team,payments",
      OMIT_EXTRA_LABELS_PREFIX: "true",
      DROP_LABELS: "__aws_cloudwatch_owner, __aws_log_type",
      RELABEL_CONFIGS: '[{"source_labels":["__aws_cloudwatch_log_group"],"target_label":"log_group"}]',
      STRUCTURED_METADATA: "cloudwatch_log_stream,kinesis_sequence_number",
      SKIP_TLS_VERIFY: "false",
      PRINT_LOG_LINE: "true",
      LOG_LEVEL: "DEBUG",
    });
    expect(c.username).to.deep.equal({ kind: "value", value: "12345" });
    expect(c.password).to.deep.equal({ kind: "secretsmanager", arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki-password-AbCdEf" });
    expect(c.tenantId).to.equal("team-a");
    expect(c.keepStream).to.equal(true);
    expect(c.batchSize).to.equal(65536);
    expect(c.extraLabels).to.deep.equal({ env: "prod", team: "payments" });
    expect(c.dropLabels).to.deep.equal(["__aws_cloudwatch_owner", "__aws_log_type"]);
    expect(c.relabelRules).to.have.length(1);
    expect(c.structuredMetadata).to.deep.equal(["cloudwatch_log_stream", "kinesis_sequence_number"]);
    expect(c.printLogLine).to.equal(true);
    expect(c.logLevel).to.equal("debug");
  });

  const sizes: [string, number][] = [
    ["", 16 * 1024 * 1024],
    ["1048576", 1048576],
    ["32MB", 32 * 1024 * 1024],
    ["32 MiB", 32 * 1024 * 1024],
    ["4096kb", 4096 * 1024],
    ["1024MB", 1024 * 1024 * 1024],
  ];
  for (const [raw, bytes] of sizes) {
    it(`reads MAX_DECOMPRESSED_SIZE=${JSON.stringify(raw)} as ${bytes} bytes (units 1024-based, as in Loki)`, () => {
      expect(parseShipperConfig({ ...BASE, MAX_DECOMPRESSED_SIZE: raw }).maxDecompressedSize).to.equal(bytes);
    });
  }

  const metricsSettings: [Record<string, string>, boolean, string][] = [
    [{}, true, "LambdaPromtail"],
    [{ METRICS: "FALSE" }, false, "LambdaPromtail"],
    [{ METRICS: "true", METRICS_NAMESPACE: "Platform/Loki shipper#1:eu-west-1_a.b-c" }, true, "Platform/Loki shipper#1:eu-west-1_a.b-c"],
    [{ METRICS: "", METRICS_NAMESPACE: "n".repeat(255) }, true, "n".repeat(255)],
  ];
  for (const [env, metrics, namespace] of metricsSettings) {
    it(`reads METRICS and METRICS_NAMESPACE from ${JSON.stringify(env).slice(0, 60)}: metrics ${metrics ? "on" : "off"} in ${namespace.slice(0, 20)}`, () => {
      const c = parseShipperConfig({ ...BASE, ...env });
      expect({ metrics: c.metrics, namespace: c.metricsNamespace }).to.deep.equal({ metrics, namespace });
    });
  }

  const lineSizes: [Record<string, string>, number, string][] = [
    [{}, 262144, "truncate"],
    [{ MAX_LINE_SIZE: "1KB" }, 1024, "truncate"],
    [{ MAX_LINE_SIZE: "262144", MAX_LINE_SIZE_ACTION: "drop" }, 262144, "drop"],
    [{ MAX_LINE_SIZE: "512 KiB", MAX_LINE_SIZE_ACTION: "Truncate" }, 512 * 1024, "truncate"],
    [{ MAX_LINE_SIZE: "64MB" }, 64 * 1024 * 1024, "truncate"],
    [{ MAX_LINE_SIZE_ACTION: "split" }, 262144, "split"],
    [{ MAX_LINE_SIZE_ACTION: "SPLIT" }, 262144, "split"],
  ];
  for (const [env, bytes, action] of lineSizes) {
    it(`reads ${JSON.stringify(env)} as lines of at most ${bytes} bytes, longer ones ${action === "drop" ? "dropped" : "truncated"}`, () => {
      const c = parseShipperConfig({ ...BASE, ...env });
      expect([c.maxLineSize, c.maxLineSizeAction]).to.deep.equal([bytes, action]);
    });
  }

  it("prefixes extra labels with __extra_ unless told not to", () => {
    expect(parseShipperConfig({ ...BASE, EXTRA_LABELS: "env,prod" }).extraLabels).to.deep.equal({ __extra_env: "prod" });
  });

  it("recognises SSM parameter ARNs as credentials to resolve", () => {
    const c = parseShipperConfig({ ...BASE, BEARER_TOKEN: "arn:aws:ssm:us-east-1:123456789012:parameter/loki/token" });
    expect(c.bearerToken).to.deep.equal({ kind: "ssm", arn: "arn:aws:ssm:us-east-1:123456789012:parameter/loki/token" });
  });

  const rejected: [string, Record<string, string>, string, RegExp][] = [
    ["a missing WRITE_ADDRESS", { WRITE_ADDRESS: "" }, "WRITE_ADDRESS", /is required/],
    ["a WRITE_ADDRESS that is not a URL", { WRITE_ADDRESS: "loki:3100" }, "WRITE_ADDRESS", /scheme|not a URL/],
    ["a WRITE_ADDRESS with another scheme", { WRITE_ADDRESS: "ftp://loki/push" }, "WRITE_ADDRESS", /not http or https/],
    ["USERNAME without PASSWORD", { USERNAME: "u" }, "PASSWORD", /must be set/],
    ["PASSWORD without USERNAME", { PASSWORD: "p" }, "USERNAME", /must be set/],
    ["BEARER_TOKEN with USERNAME", { USERNAME: "u", PASSWORD: "p", BEARER_TOKEN: "t" }, "BEARER_TOKEN", /not both|together/],
    ["an ARN of another service as credential", { BEARER_TOKEN: "arn:aws:s3:::bucket/token" }, "BEARER_TOKEN", /Secrets Manager secret or SSM parameter/],
    ["a non-boolean KEEP_STREAM", { KEEP_STREAM: "yes" }, "KEEP_STREAM", /not a boolean/],
    ["a non-numeric BATCH_SIZE", { BATCH_SIZE: "128k" }, "BATCH_SIZE", /out of range/],
    ["a zero BATCH_SIZE", { BATCH_SIZE: "0" }, "BATCH_SIZE", /out of range/],
    ["a huge BATCH_SIZE", { BATCH_SIZE: "10000000000" }, "BATCH_SIZE", /out of range/],
    ["an odd EXTRA_LABELS list", { EXTRA_LABELS: "env,prod,team" }, "EXTRA_LABELS", /./],
    ["an invalid EXTRA_LABELS name", { EXTRA_LABELS: "my-env,prod", OMIT_EXTRA_LABELS_PREFIX: "true" }, "EXTRA_LABELS", /my-env/],
    ["an EXTRA_LABELS __tenant_id__ Loki refuses as a tenant id", { EXTRA_LABELS: "__tenant_id__,team a", OMIT_EXTRA_LABELS_PREFIX: "true" }, "EXTRA_LABELS", /"team a", is not a tenant id Loki accepts/],
    ["an invalid DROP_LABELS name", { DROP_LABELS: "ok,not-ok" }, "DROP_LABELS", /not-ok/],
    ["RELABEL_CONFIGS that is not JSON", { RELABEL_CONFIGS: "[{source_labels: x}]" }, "RELABEL_CONFIGS", /not valid JSON/],
    ["RELABEL_CONFIGS that is not an array", { RELABEL_CONFIGS: '{"action":"drop"}' }, "RELABEL_CONFIGS", /array/],
    ["a relabel rule with a bad regex", { RELABEL_CONFIGS: '[{"source_labels":["a"],"regex":"(unclosed","target_label":"b"}]' }, "RELABEL_CONFIGS", /rule 0/],
    ["a relabel rule with an unknown action", { RELABEL_CONFIGS: '[{"action":"explode"}]' }, "RELABEL_CONFIGS", /explode/],
    ["an unknown STRUCTURED_METADATA field", { STRUCTURED_METADATA: "cloudwatch_log_stream,request_id" }, "STRUCTURED_METADATA", /request_id/],
    ["an unknown LOG_LEVEL", { LOG_LEVEL: "verbose" }, "LOG_LEVEL", /not a log level/],
    ["a TENANT_ID with a pipe", { TENANT_ID: "a|b" }, "TENANT_ID", /not a valid tenant id/],
    ["a BEARER_TOKEN with a line break", { BEARER_TOKEN: "tok\nen" }, "BEARER_TOKEN", /HTTP header cannot carry/],
    ["a BEARER_TOKEN with a character beyond Latin-1", { BEARER_TOKEN: "t\u00f6k\u20acn" }, "BEARER_TOKEN", /HTTP header cannot carry/],
    ["a TENANT_ID with a character Loki refuses", { TENANT_ID: "team/a" }, "TENANT_ID", /not a valid tenant id/],
    ["a MAX_DECOMPRESSED_SIZE below 1 MB", { MAX_DECOMPRESSED_SIZE: "512KB" }, "MAX_DECOMPRESSED_SIZE", /not a size from 1048576/],
    ["a MAX_DECOMPRESSED_SIZE with an unknown unit", { MAX_DECOMPRESSED_SIZE: "16GB" }, "MAX_DECOMPRESSED_SIZE", /not a size/],
    ["a MAX_DECOMPRESSED_SIZE that is not a number", { MAX_DECOMPRESSED_SIZE: "lots" }, "MAX_DECOMPRESSED_SIZE", /not a size/],
    ["a MAX_LINE_SIZE below 1 KB", { MAX_LINE_SIZE: "1000" }, "MAX_LINE_SIZE", /not a size from 1024/],
    ["a MAX_LINE_SIZE above 64 MB", { MAX_LINE_SIZE: "65MB" }, "MAX_LINE_SIZE", /not a size/],
    ["a MAX_LINE_SIZE with a fraction", { MAX_LINE_SIZE: "0.5MB" }, "MAX_LINE_SIZE", /not a size/],
    ["an unknown MAX_LINE_SIZE_ACTION", { MAX_LINE_SIZE_ACTION: "cut" }, "MAX_LINE_SIZE_ACTION", /truncate, drop or split/],
    ["a non-boolean METRICS", { METRICS: "off" }, "METRICS", /not a boolean.*empty means true/],
    ["a METRICS_NAMESPACE with a comma", { METRICS_NAMESPACE: "Lambda,Promtail" }, "METRICS_NAMESPACE", /not a CloudWatch namespace/],
    ["a METRICS_NAMESPACE in the reserved AWS/ space", { METRICS_NAMESPACE: "AWS/Lambda" }, "METRICS_NAMESPACE", /not a CloudWatch namespace/],
    ["a METRICS_NAMESPACE starting with ':' (the API's pattern [^:].*)", { METRICS_NAMESPACE: ":Platform/Logs" }, "METRICS_NAMESPACE", /not a CloudWatch namespace/],
    ["a METRICS_NAMESPACE over 255 characters", { METRICS_NAMESPACE: "n".repeat(256) }, "METRICS_NAMESPACE", /not a CloudWatch namespace/],
    ["a METRICS_NAMESPACE with non-ASCII letters", { METRICS_NAMESPACE: "Lögs" }, "METRICS_NAMESPACE", /not a CloudWatch namespace/],
  ];
  for (const [what, env, setting, problem] of rejected) {
    it(`rejects ${what}, naming ${setting} and the accepted form`, () => {
      const err = errorFor(env);
      expect(err.setting).to.equal(setting);
      expect(err.message).to.match(new RegExp(`^${setting}: `));
      expect(err.message).to.match(problem);
      expect(err.message).to.include("Accepted form:");
    });
  }

  it("documents every setting once, with a stack key for the Pulumi program", () => {
    const envs = SETTINGS.map((s) => s.env);
    expect(new Set(envs).size).to.equal(envs.length);
    for (const s of SETTINGS) expect(s.stackKey).to.match(/^[a-z][a-zA-Z]+$/);
  });
});
