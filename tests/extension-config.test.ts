import { expect } from "chai";
import { ConfigError, parseShipperConfig, prefixedName } from "../handler/config";
import { EXTENSION_SETTINGS, parseExtensionConfig, supportedShipperSettings, unknownPrefixedVariables } from "../extension/config";

const BASE = { LOKI_WRITE_ADDRESS: "https://loki.example.com/loki/api/v1/push" };

function errorFor(env: Record<string, string>): ConfigError {
  try {
    parseExtensionConfig({ ...BASE, ...env });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("extension configuration", () => {
  it("reads the shipper's settings under the LOKI_ prefix through the shipper's validator", () => {
    const c = parseExtensionConfig({
      ...BASE,
      LOKI_USERNAME: "123",
      LOKI_PASSWORD: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki-AbCdEf",
      LOKI_TENANT_ID: "team-a",
      LOKI_EXTRA_LABELS: "env,prod",
      LOKI_OMIT_EXTRA_LABELS_PREFIX: "true",
      LOKI_DROP_LABELS: "__aws_lambda_function_version",
      LOKI_BATCH_SIZE: "65536",
      LOKI_STRUCTURED_METADATA: "lambda_request_id,level",
      LOKI_LOG_LEVEL: "debug",
      // The function's own variables without the prefix are not the extension's business.
      WRITE_ADDRESS: "not a url",
      BATCH_SIZE: "x",
    });
    expect(c.shipper.writeAddress).to.equal(BASE.LOKI_WRITE_ADDRESS);
    expect(c.shipper.password).to.deep.equal({ kind: "secretsmanager", arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki-AbCdEf" });
    expect(c.shipper.extraLabels).to.deep.equal({ env: "prod" });
    expect(c.shipper.batchSize).to.equal(65536);
    expect(c.shipper.structuredMetadata).to.deep.equal(["lambda_request_id", "level"]);
    expect(c.shipper.logLevel).to.equal("debug");
  });

  it("applies its own defaults", () => {
    const c = parseExtensionConfig(BASE);
    expect([...c.shipTypes].sort()).to.deep.equal(["function", "platform"]);
    expect(c.buffering).to.deep.equal({ maxItems: 1000, maxBytes: 262144, timeoutMs: 25 });
    expect(c.flushStrategy).to.equal("auto");
    expect(c.flushIntervalMs).to.equal(1000);
    expect(c.busyRate).to.equal(2);
    expect(c.flushTimeoutMs).to.equal(2000);
    expect(c.maxHeldBytes).to.equal(8388608);
    expect(c.logGroupName).to.equal(undefined);
  });

  const bad: [string, Record<string, string>, RegExp][] = [
    ["a missing write address", { LOKI_WRITE_ADDRESS: "" }, /^LOKI_WRITE_ADDRESS: is required but not set/],
    ["a bad batch size", { LOKI_BATCH_SIZE: "128k" }, /^LOKI_BATCH_SIZE: "128k" is out of range/],
    ["a password without user, naming both prefixed", { LOKI_PASSWORD: "p" }, /^LOKI_USERNAME: must be set because LOKI_PASSWORD is set\. Accepted form: LOKI_USERNAME and LOKI_PASSWORD together, or neither$/],
    ["bad relabel JSON", { LOKI_RELABEL_CONFIGS: "[" }, /^LOKI_RELABEL_CONFIGS: is not valid JSON/],
    ["KEEP_STREAM=true", { LOKI_KEEP_STREAM: "true" }, /^LOKI_KEEP_STREAM: is not supported by the telemetry extension/],
    ["PRINT_LOG_LINE=true", { LOKI_PRINT_LOG_LINE: "TRUE" }, /^LOKI_PRINT_LOG_LINE: is not supported/],
    ["tag labels", { LOKI_TAG_LABELS: "team" }, /^LOKI_TAG_LABELS: is not supported/],
    ["a metadata field the extension never sets", { LOKI_STRUCTURED_METADATA: "cloudwatch_log_stream" }, /^LOKI_STRUCTURED_METADATA: field "cloudwatch_log_stream" is never set by the telemetry extension\. Accepted form: comma-separated names from: lambda_request_id, level$/],
    ["an unknown telemetry type", { LOKI_TELEMETRY_TYPES: "function,logs" }, /^LOKI_TELEMETRY_TYPES: unknown telemetry type "logs"/],
    ["a buffering timeout under Lambda's minimum", { LOKI_TELEMETRY_TIMEOUT_MS: "10" }, /^LOKI_TELEMETRY_TIMEOUT_MS: "10" is out of range\. Accepted form: a whole number of milliseconds from 25 to 30000$/],
    ["maxItems over Lambda's maximum", { LOKI_TELEMETRY_MAX_ITEMS: "10001" }, /^LOKI_TELEMETRY_MAX_ITEMS: /],
    ["maxBytes under Lambda's minimum", { LOKI_TELEMETRY_MAX_BYTES: "1024" }, /^LOKI_TELEMETRY_MAX_BYTES: /],
    ["an unknown flush strategy", { LOKI_FLUSH_STRATEGY: "sometimes" }, /^LOKI_FLUSH_STRATEGY: "sometimes" is not a flush strategy/],
    ["a busy rate of zero", { LOKI_BUSY_RATE: "0" }, /^LOKI_BUSY_RATE: "0" is out of range/],
    ["a memory bound too small", { LOKI_MAX_HELD_BYTES: "1000" }, /^LOKI_MAX_HELD_BYTES: /],
    ["a log group name with spaces", { LOKI_LOG_GROUP_NAME: "/aws/lambda/my fn" }, /^LOKI_LOG_GROUP_NAME: /],
  ];
  for (const [what, env, message] of bad) {
    it(`rejects ${what} with a message naming the LOKI_ setting`, () => {
      expect(errorFor(env).message).to.match(message);
    });
  }

  it("accepts KEEP_STREAM and PRINT_LOG_LINE when they say false", () => {
    expect(() => parseExtensionConfig({ ...BASE, LOKI_KEEP_STREAM: "false", LOKI_PRINT_LOG_LINE: "" })).to.not.throw();
  });

  it("always ships function logs, and platform/extension as asked", () => {
    expect([...parseExtensionConfig({ ...BASE, LOKI_TELEMETRY_TYPES: "extension" }).shipTypes].sort()).to.deep.equal(["extension", "function"]);
    expect([...parseExtensionConfig({ ...BASE, LOKI_TELEMETRY_TYPES: "function" }).shipTypes]).to.deep.equal(["function"]);
  });

  it("does not prefix twice a setting whose name already starts with LOKI_", () => {
    expect(prefixedName("LOKI_STAGE_CONFIGS", "LOKI_")).to.equal("LOKI_STAGE_CONFIGS");
    expect(prefixedName("BATCH_SIZE", "LOKI_")).to.equal("LOKI_BATCH_SIZE");
  });

  it("leaves the shipper's own messages unprefixed", () => {
    expect(() => parseShipperConfig({ WRITE_ADDRESS: "x" })).to.throw(/^WRITE_ADDRESS: "x" is not a URL/);
  });

  it("lists the LOKI_ variables it does not know, so that typos are reported", () => {
    expect(unknownPrefixedVariables({ ...BASE, LOKI_BATCHSIZE: "1", LOKI_FLUSH_STRATEGY: "auto", OTHER: "x" })).to.deep.equal(["LOKI_BATCHSIZE"]);
  });

  // The README table and the parser read the same values: an unset setting is its documented default,
  // a number setting takes exactly its documented range, and a refusal quotes the documented form.
  for (const setting of EXTENSION_SETTINGS) {
    it(`${setting.env}: unset gives the documented default (${setting.defaultValue})`, () => {
      const unset = setting.read({});
      if (setting.env === "LOKI_LOG_GROUP_NAME") expect(unset, "a description, not a value: the function's own group").to.equal(undefined);
      else expect(unset).to.deep.equal(setting.read({ [setting.env]: setting.defaultValue }));
    });
  }
  for (const setting of EXTENSION_SETTINGS.filter((s) => s.range !== undefined)) {
    const { min, max } = setting.range!;
    it(`${setting.env}: takes ${min} to ${max} as documented (${setting.acceptedForm}) and refuses just outside`, () => {
      expect(setting.acceptedForm).to.match(new RegExp(`from ${min} to ${max}$`));
      expect(setting.read({ [setting.env]: String(min) })).to.equal(min);
      expect(setting.read({ [setting.env]: String(max) })).to.equal(max);
      const step = Number.isInteger(min) ? 1 : 0.001;
      for (const outside of [min - step, max + step]) {
        expect(() => setting.read({ [setting.env]: String(outside) })).to.throw(ConfigError, `${setting.env}: "${outside}" is out of range. Accepted form: ${setting.acceptedForm}`);
      }
    });
  }

  it("documents every setting it reads, shipper's and own, under distinct names", () => {
    const names = [...supportedShipperSettings(), ...EXTENSION_SETTINGS].map((s) => s.env);
    expect(new Set(names).size).to.equal(names.length);
    expect(names).to.include.members(["LOKI_WRITE_ADDRESS", "LOKI_BEARER_TOKEN", "LOKI_SKIP_TLS_VERIFY", "LOKI_LOG_LEVEL", "LOKI_LOG_GROUP_NAME"]);
    expect(names).to.not.include("LOKI_KEEP_STREAM");
  });
});
