/**
 * Stack config validation (infra/settings.ts), without Pulumi: every key's errors name the key
 * and its accepted form; the shipper's settings are rejected with the handler's own messages.
 */
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { ConfigError, parseShipperConfig, SETTINGS } from "../handler/config";
import { ALARM_THRESHOLDS, DEFAULT_ALARM_THRESHOLDS, DEFAULTS, INFRA_SETTINGS, parseStackSettings, projectConfig, StackConfigError } from "../infra/settings";

const WRITE = "https://loki.example.com/loki/api/v1/push";
const base = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ writeAddress: WRITE, ...extra });

/** The StackConfigError thrown for `raw`. */
function configError(raw: Record<string, unknown>): StackConfigError {
  try {
    parseStackSettings(raw);
  } catch (err) {
    expect(err).to.be.instanceOf(StackConfigError);
    return err as StackConfigError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

/** The message the handler itself gives for an environment, at cold start. */
function handlerMessage(env: Record<string, string>): string {
  try {
    parseShipperConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error("expected the handler to reject the environment");
}

const formOf = (key: string): string => {
  const spec = INFRA_SETTINGS.find((s) => s.key === key);
  if (!spec) throw new Error(key);
  return spec.acceptedForm;
};

describe("infra settings: stack config -> ShipperStackSettings", () => {
  describe("defaults", () => {
    it("needs only writeAddress and fills in every default", () => {
      const s = parseStackSettings(base());
      expect(s.env).to.deep.equal({ WRITE_ADDRESS: WRITE });
      expect(s.credentials).to.deep.equal({});
      expect(s.code).to.deep.equal({ kind: "build" });
      expect(s).to.include({ architecture: "x86_64", memorySize: DEFAULTS.memorySize, timeout: 60, logRetentionDays: 14 });
      expect(s.functionName).to.equal(undefined);
      expect(s.reservedConcurrency).to.equal(undefined);
      expect(s.kmsKeyArn).to.equal(undefined);
      expect(s.vpc).to.equal(undefined);
      expect(s.tags).to.deep.equal({});
      expect(s.logGroups).to.deep.equal([]);
      expect(s.buckets).to.deep.equal([]);
      expect(s.kinesisStreams).to.deep.equal([]);
      expect(s.sqs).to.deep.equal({ batchSize: 5, maxReceiveCount: 5 });
    });

    it("documents every key it accepts, with a default and an accepted form", () => {
      for (const spec of INFRA_SETTINGS) {
        expect(spec.acceptedForm, spec.key).to.not.equal("");
        expect(spec.defaultValue, spec.key).to.not.equal("");
      }
      const infraKeys = INFRA_SETTINGS.map((s) => s.key);
      const shipperKeys = SETTINGS.map((s) => s.stackKey);
      expect(infraKeys.filter((k) => shipperKeys.includes(k)), "no key is both").to.deep.equal([]);
    });

    it("keeps only this project's keys from Pulumi's config map", () => {
      expect(projectConfig("lambda-promtail", { "aws:region": "us-east-1", "lambda-promtail:writeAddress": WRITE, "other:x": "1" })).to.deep.equal({ writeAddress: WRITE });
    });
  });

  describe("shipper settings become the function's environment", () => {
    it("maps every shipper key through the handler's SETTINGS table", () => {
      const s = parseStackSettings({
        writeAddress: WRITE,
        tenantId: "team-a",
        keepStream: true,
        batchSize: 65536,
        extraLabels: { env: "dev", team: "obs" },
        omitExtraLabelsPrefix: "true",
        dropLabels: ["__aws_log_type"],
        relabelConfigs: [{ source_labels: ["__aws_cloudwatch_log_group"], target_label: "log_group" }],
        structuredMetadata: ["cloudwatch_log_stream", "cloudwatch_owner"],
        skipTlsVerify: false,
        printLogLine: true,
        logLevel: "debug",
      });
      expect(s.env).to.deep.equal({
        WRITE_ADDRESS: WRITE,
        TENANT_ID: "team-a",
        KEEP_STREAM: "true",
        BATCH_SIZE: "65536",
        EXTRA_LABELS: "env,dev,team,obs",
        OMIT_EXTRA_LABELS_PREFIX: "true",
        DROP_LABELS: "__aws_log_type",
        RELABEL_CONFIGS: '[{"source_labels":["__aws_cloudwatch_log_group"],"target_label":"log_group"}]',
        STRUCTURED_METADATA: "cloudwatch_log_stream,cloudwatch_owner",
        SKIP_TLS_VERIFY: "false",
        PRINT_LOG_LINE: "true",
        LOG_LEVEL: "debug",
      });
      expect(() => parseShipperConfig(s.env)).to.not.throw();
      expect(s.shipper.batchSize).to.equal(65536);
      expect(s.shipper.logLevel).to.equal("debug");
    });

    it("reads structured values the way the Pulumi CLI passes them (JSON strings)", () => {
      const fromYaml = parseStackSettings(base({ extraLabels: { env: "dev" }, dropLabels: ["a", "b"], relabelConfigs: [{ target_label: "x", replacement: "y" }], logGroups: ["/a", { name: "/b", filterPattern: "ERROR" }] }));
      const fromCli = parseStackSettings(base({ extraLabels: '{"env":"dev"}', dropLabels: '["a","b"]', relabelConfigs: '[{"target_label":"x","replacement":"y"}]', logGroups: '["/a",{"name":"/b","filterPattern":"ERROR"}]' }));
      expect(fromCli.env).to.deep.equal(fromYaml.env);
      expect(fromCli.logGroups).to.deep.equal(fromYaml.logGroups);
    });

    it("passes stageConfigs, a YAML list in the stack file, to the function as JSON", () => {
      const stages = [{ json: { expressions: { level: "" } } }, { labels: { level: "" } }];
      const s = parseStackSettings(base({ stageConfigs: stages }));
      expect(JSON.parse(s.env.LOKI_STAGE_CONFIGS)).to.deep.equal(stages);
      expect(parseStackSettings(base({ stageConfigs: JSON.stringify(stages) })).env.LOKI_STAGE_CONFIGS).to.equal(s.env.LOKI_STAGE_CONFIGS);
    });

    it("accepts lambda-promtail's plain string forms unchanged", () => {
      const s = parseStackSettings(base({ extraLabels: "env,dev", dropLabels: "a,b", logGroups: "/a, /b" }));
      expect(s.env).to.include({ EXTRA_LABELS: "env,dev", DROP_LABELS: "a,b" });
      expect(s.logGroups.map((g) => g.name)).to.deep.equal(["/a", "/b"]);
    });

    it("keeps an explicitly empty setting (TAG_LABELS_PREFIX='' means no prefix)", () => {
      const s = parseStackSettings(base({ tagLabelsPrefix: "" }));
      expect(s.env).to.have.property("TAG_LABELS_PREFIX", "");
    });

    it("takes credentials out of the environment and classifies them", () => {
      const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:loki-user-AbCdEf";
      const parameterArn = "arn:aws:ssm:us-east-1:123456789012:parameter/loki/password";
      const s = parseStackSettings(base({ username: secretArn, password: parameterArn }));
      expect(s.env).to.deep.equal({ WRITE_ADDRESS: WRITE });
      expect(s.credentials).to.deep.equal({ USERNAME: { kind: "secretsmanager", arn: secretArn }, PASSWORD: { kind: "ssm", arn: parameterArn } });
      const t = parseStackSettings(base({ bearerToken: "[not-json{" }));
      expect(t.credentials).to.deep.equal({ BEARER_TOKEN: { kind: "value", value: "[not-json{" } });
    });
  });

  describe("shipper settings are rejected with the handler's own message", () => {
    const cases: [string, Record<string, unknown>, Record<string, string>, string][] = [
      ["writeAddress missing", {}, {}, "writeAddress"],
      ["writeAddress not a URL", { writeAddress: "loki:3100" }, { WRITE_ADDRESS: "loki:3100" }, "writeAddress"],
      ["batchSize out of range", base({ batchSize: 0 }), { WRITE_ADDRESS: WRITE, BATCH_SIZE: "0" }, "batchSize"],
      ["logLevel unknown", base({ logLevel: "verbose" }), { WRITE_ADDRESS: WRITE, LOG_LEVEL: "verbose" }, "logLevel"],
      ["tenantId with a pipe", base({ tenantId: "a|b" }), { WRITE_ADDRESS: WRITE, TENANT_ID: "a|b" }, "tenantId"],
      ["keepStream not a boolean", base({ keepStream: "yes" }), { WRITE_ADDRESS: WRITE, KEEP_STREAM: "yes" }, "keepStream"],
      ["password without username", base({ password: "p" }), { WRITE_ADDRESS: WRITE, PASSWORD: "p" }, "username"],
      ["username without password", base({ username: "u" }), { WRITE_ADDRESS: WRITE, USERNAME: "u" }, "password"],
      ["basic auth and bearer token", base({ username: "u", password: "p", bearerToken: "t" }), { WRITE_ADDRESS: WRITE, USERNAME: "u", PASSWORD: "p", BEARER_TOKEN: "t" }, "bearerToken"],
      ["a malformed secret ARN", base({ bearerToken: "arn:aws:secretsmanager:us-east-1:12:secret:x" }), { WRITE_ADDRESS: WRITE, BEARER_TOKEN: "arn:aws:secretsmanager:us-east-1:12:secret:x" }, "bearerToken"],
      ["relabelConfigs not JSON", base({ relabelConfigs: "[{" }), { WRITE_ADDRESS: WRITE, RELABEL_CONFIGS: "[{" }, "relabelConfigs"],
      ["structuredMetadata unknown field", base({ structuredMetadata: ["nope"] }), { WRITE_ADDRESS: WRITE, STRUCTURED_METADATA: "nope" }, "structuredMetadata"],
      ["stageConfigs with an unknown option (YAML list)", base({ stageConfigs: [{ json: { expressions: { level: "" } } }, { drop: { expresion: "x" } }] }), { WRITE_ADDRESS: WRITE, LOKI_STAGE_CONFIGS: '[{"json":{"expressions":{"level":""}}},{"drop":{"expresion":"x"}}]' }, "stageConfigs"],
      ["stageConfigs with a stage that makes no sense in Lambda", base({ stageConfigs: '[{"multiline":{"firstline":"^x"}}]' }), { WRITE_ADDRESS: WRITE, LOKI_STAGE_CONFIGS: '[{"multiline":{"firstline":"^x"}}]' }, "stageConfigs"],
      ["pipelineTimeout not a duration", base({ pipelineTimeout: "5" }), { WRITE_ADDRESS: WRITE, PIPELINE_TIMEOUT: "5" }, "pipelineTimeout"],
    ];
    for (const [title, raw, env, key] of cases) {
      it(`${title} -> "${key}"`, () => {
        const err = configError(raw);
        expect(err.issues).to.have.length(1);
        expect(err.key).to.equal(key);
        expect(err.message).to.equal(`Invalid stack config "${key}": ${handlerMessage(env)}`);
        // A stage error names its position inside the setting (LOKI_STAGE_CONFIGS[1].drop.expresion).
        expect(err.issues[0].setting?.replace(/[[.].*$/, "")).to.equal(SETTINGS.find((s) => s.stackKey === key)?.env);
      });
    }

    it("never echoes a credential's value in a message", () => {
      const err = configError(base({ password: "hunter2-secret" }));
      expect(err.message).to.not.include("hunter2-secret");
    });
  });

  describe("the program's own keys", () => {
    const cases: [string, Record<string, unknown>, string, string][] = [
      ["an unknown key, with a suggestion", { writeAdress: WRITE }, "writeAdress", 'is not a setting of this program (did you mean "writeAddress"?)'],
      ["functionName with a space", { functionName: "my fn" }, "functionName", '"my fn" is not valid'],
      ["packageType unknown", { packageType: "jar" }, "packageType", '"jar" is not one of image, zip'],
      ["imageUri not on ECR", { imageUri: "docker.io/grafana/lambda-promtail:1" }, "imageUri", "is not an ECR image URI"],
      ["imageUri with zip", { packageType: "zip", imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1" }, "imageUri", "cannot be used with packageType zip"],
      ["bundlePath without zip", { bundlePath: "dist/x.js" }, "bundlePath", "only applies with packageType zip"],
      ["architecture unknown", { architecture: "aarch64" }, "architecture", '"aarch64" is not one of x86_64, arm64'],
      ["memorySize too small", { memorySize: 64 }, "memorySize", '"64" is out of range'],
      ["timeout too long", { timeout: 901 }, "timeout", '"901" is out of range'],
      ["timeout not a number", { timeout: "1m" }, "timeout", '"1m" is out of range'],
      ["reservedConcurrency zero", { reservedConcurrency: 0 }, "reservedConcurrency", '"0" is out of range'],
      ["logRetentionDays not offered", { logRetentionDays: 10 }, "logRetentionDays", "10 is not a retention period CloudWatch Logs offers"],
      ["kmsKeyArn an alias", { kmsKeyArn: "alias/loki" }, "kmsKeyArn", '"alias/loki" is not valid'],
      ["subnets without security groups", { vpcSubnetIds: ["subnet-0123456789abcdef0"] }, "vpcSecurityGroupIds", "must be set because vpcSubnetIds is set"],
      ["security groups without subnets", { vpcSecurityGroupIds: "sg-0123456789abcdef0" }, "vpcSubnetIds", "must be set because vpcSecurityGroupIds is set"],
      ["a bad subnet id", { vpcSubnetIds: ["subnet-xyz"], vpcSecurityGroupIds: ["sg-0123456789abcdef0"] }, "vpcSubnetIds", "is not a subnet id"],
      ["tags with an aws: key", { tags: { "aws:owner": "x" } }, "tags", '"aws:owner" is not a valid tag key'],
      ["tags not a map", { tags: ["a"] }, "tags", "expected a map, got a list"],
      ["a log group name with a space", { logGroups: ["my group"] }, "logGroups", '"my group" is not a log group name'],
      ["a log group listed twice", { logGroups: ["/a", { name: "/a", filterPattern: "x" }] }, "logGroups", '"/a" is listed twice'],
      ["a log group with an unknown field", { logGroups: [{ name: "/a", filter: "x" }] }, "logGroups", 'item 0 has an unknown field "filter"'],
      ["the shipper's own log group", { functionName: "shipper", logGroups: ["/aws/lambda/shipper"] }, "logGroups", "is the shipper's own log group"],
      ["a bad bucket name", { buckets: ["My_Bucket"] }, "buckets", '"My_Bucket" is not a bucket name'],
      ["a bucket listed twice", { buckets: ["logs-a", { name: "logs-a", delivery: "sqs" }] }, "buckets", '"logs-a" is listed twice'],
      ["a bucket with a typo'd field", { buckets: [{ name: "logs-a", prefx: "AWSLogs/" }] }, "buckets", 'item 0 has an unknown field "prefx"'],
      ["a bucket delivery unknown", { buckets: [{ name: "logs-a", delivery: "sns" }] }, "buckets", 'delivery "sns" is not one of direct, sqs, eventbridge'],
      ["a bucket's kmsKeyArn an alias", { buckets: [{ name: "logs-a", kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:alias/logs" }] }, "buckets", 'item 0: kmsKeyArn "arn:aws:kms:us-east-1:123456789012:alias/logs" is not a KMS key ARN'],
      ["a stream's kmsKeyArn not a string", { kinesisStreams: [{ stream: "s", kmsKeyArn: 7 }] }, "kinesisStreams", "item 0: kmsKeyArn number 7 is not a KMS key ARN"],
      ["bucketDelivery unknown", { bucketDelivery: "lambda" }, "bucketDelivery", '"lambda" is not one of direct, sqs, eventbridge'],
      ["sqsBatchSize over 10", { sqsBatchSize: 11 }, "sqsBatchSize", '"11" is out of range'],
      ["a stream that is neither name nor ARN", { kinesisStreams: ["arn:aws:kinesis:us-east-1:1:stream/x"] }, "kinesisStreams", "is neither a stream name nor a stream ARN"],
      ["a stream starting position unknown", { kinesisStreams: [{ stream: "s", startingPosition: "AT_TIMESTAMP" }] }, "kinesisStreams", 'startingPosition "AT_TIMESTAMP" is not LATEST or TRIM_HORIZON'],
      ["a stream batch size too big", { kinesisStreams: [{ stream: "s", batchSize: 20000 }] }, "kinesisStreams", '"20000" is out of range'],
      ["an extra label value with a comma", { extraLabels: { team: "a,b" } }, "extraLabels", "contains a comma, which the comma-separated EXTRA_LABELS cannot carry"],
      ["a drop label list of maps", { dropLabels: [{ a: 1 }] }, "dropLabels", "item 0 should be a string, got a map"],
      ["a boolean given as a list", { keepStream: [true] }, "keepStream", "expected a string, got a list"],
    ];
    for (const [title, raw, key, problem] of cases) {
      it(`${title} -> "${key}"`, () => {
        const err = configError({ writeAddress: WRITE, ...raw });
        expect(err.issues.map((i) => i.key)).to.deep.equal([key]);
        expect(err.message).to.match(new RegExp(`^Invalid stack config "${key}": `));
        expect(err.message).to.include(problem);
        expect(err.message).to.include("Accepted form: ");
        if (INFRA_SETTINGS.some((s) => s.key === key) && !/together|packageType zip/.test(err.message)) {
          expect(err.message).to.include(formOf(key));
        }
      });
    }

    it("reports every problem at once", () => {
      const err = configError({ memorySize: 1, timeout: 0, buckets: ["x"] });
      expect(err.issues.map((i) => i.key)).to.have.members(["writeAddress", "memorySize", "timeout", "buckets"]);
      expect(err.message).to.match(/^4 problems in the stack config:\n {2}- Invalid stack config/);
    });

    it("refuses an environment over Lambda's 4 KB limit, naming the biggest setting", () => {
      const rules = Array.from({ length: 60 }, (_, i) => ({ source_labels: ["__aws_cloudwatch_log_group"], target_label: `label_${i}` }));
      const err = configError(base({ relabelConfigs: rules }));
      expect(err.key).to.equal("relabelConfigs");
      expect(err.message).to.include("over Lambda's 4096-byte limit");
    });
  });

  describe("sources", () => {
    it("applies stack-wide bucket defaults unless a bucket overrides them", () => {
      const s = parseStackSettings(base({
        bucketDelivery: "sqs",
        bucketPrefix: "AWSLogs/",
        bucketSuffix: ".gz",
        buckets: ["alb-logs", { name: "trail-logs", suffix: ".json.gz", delivery: "eventbridge" }, { name: "flow-logs", prefix: "" }],
      }));
      expect(s.buckets).to.deep.equal([
        { name: "alb-logs", prefix: "AWSLogs/", suffix: ".gz", delivery: "sqs" },
        { name: "trail-logs", prefix: "AWSLogs/", suffix: ".json.gz", delivery: "eventbridge" },
        { name: "flow-logs", prefix: "", suffix: ".gz", delivery: "sqs" },
      ]);
    });

    it("reads Kinesis streams by name or ARN, with per-stream settings", () => {
      const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/cw-logs";
      const s = parseStackSettings(base({ kinesisStreams: ["app-logs", { stream: arn, batchSize: 500, startingPosition: "TRIM_HORIZON", maximumRetryAttempts: 0 }] }));
      expect(s.kinesisStreams).to.deep.equal([
        { stream: "app-logs", name: "app-logs", batchSize: 100, startingPosition: "LATEST", maximumRetryAttempts: 3 },
        { stream: arn, name: "cw-logs", arn, batchSize: 500, startingPosition: "TRIM_HORIZON", maximumRetryAttempts: 0 },
      ]);
    });

    it("reads the code source", () => {
      expect(parseStackSettings(base({ packageType: "zip" })).code).to.deep.equal({ kind: "zip", bundlePath: "dist/handler/index.js" });
      expect(parseStackSettings(base({ packageType: "zip", bundlePath: "build/x.js" })).code).to.deep.equal({ kind: "zip", bundlePath: "build/x.js" });
      const imageUri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lambda-promtail@sha256:" + "a".repeat(64);
      expect(parseStackSettings(base({ imageUri })).code).to.deep.equal({ kind: "image", imageUri });
    });
  });

  describe("alarms", () => {
    const TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts";

    it("creates none unless the stack asks (absent, false, empty)", () => {
      for (const alarms of [undefined, false, "false", ""]) {
        expect(parseStackSettings(base(alarms === undefined ? {} : { alarms })).alarms, String(alarms)).to.equal(undefined);
      }
    });

    it("turns every alarm on at its default threshold with true, notifying no one", () => {
      for (const alarms of [true, "true", {}, "{}"]) {
        expect(parseStackSettings(base({ alarms })).alarms, JSON.stringify(alarms)).to.deep.equal({ thresholds: DEFAULT_ALARM_THRESHOLDS });
      }
      expect(DEFAULT_ALARM_THRESHOLDS).to.deep.equal({ deadLetterMessages: 1, deadLetterDeliveryFailures: 1, errors: 1, throttles: 1, iteratorAgeSeconds: 300, recordsFailed: 1, entriesRejected: 1, deliveryLagSeconds: 900 });
    });

    it("reads the topic and overrides only the thresholds given, from YAML or the CLI's JSON", () => {
      const yamlForm = parseStackSettings(base({ alarms: { topicArn: TOPIC, thresholds: { errors: 5, deliveryLagSeconds: "1800" } } }));
      const cliForm = parseStackSettings(base({ alarms: JSON.stringify({ topicArn: TOPIC, thresholds: { errors: 5, deliveryLagSeconds: "1800" } }) }));
      expect(yamlForm.alarms).to.deep.equal({ topicArn: TOPIC, thresholds: { ...DEFAULT_ALARM_THRESHOLDS, errors: 5, deliveryLagSeconds: 1800 } });
      expect(cliForm.alarms).to.deep.equal(yamlForm.alarms);
      expect(parseStackSettings(base({ alarms: { topicArn: "arn:aws-cn:sns:cn-north-1:123456789012:alerts.fifo" } })).alarms?.topicArn).to.equal("arn:aws-cn:sns:cn-north-1:123456789012:alerts.fifo");
    });

    it("keeps the AWS alarms when metrics are off, if no shipper-metric threshold is set", () => {
      expect(parseStackSettings(base({ metrics: false, alarms: { thresholds: { errors: 3 } } })).alarms?.thresholds.errors).to.equal(3);
    });

    const cases: [string, unknown, string][] = [
      ["a topic that is not an ARN", { topicArn: "ops-alerts" }, 'topicArn "ops-alerts" is not an SNS topic ARN'],
      ["a topic of another service", { topicArn: "arn:aws:sqs:us-east-1:123456789012:ops-alerts" }, "is not an SNS topic ARN"],
      ["a topic given as a number", { topicArn: 12 }, "topicArn number 12 is not an SNS topic ARN"],
      ["a negative threshold", { thresholds: { errors: -1 } }, 'thresholds.errors: "-1" is out of range (1 to 1000000000)'],
      ["a zero threshold (would always alarm)", { thresholds: { deadLetterMessages: 0 } }, 'thresholds.deadLetterMessages: "0" is out of range'],
      ["a fractional threshold", { thresholds: { iteratorAgeSeconds: 1.5 } }, 'thresholds.iteratorAgeSeconds: "1.5" is out of range'],
      ["an age over a year", { thresholds: { deliveryLagSeconds: 31536001 } }, 'thresholds.deliveryLagSeconds: "31536001" is out of range (1 to 31536000)'],
      ["a threshold given as a map", { thresholds: { errors: { value: 1 } } }, "thresholds.errors: expected a number, got a map"],
      ["an unknown key", { topic: "x" }, 'has an unknown field "topic" (known: topicArn, thresholds)'],
      ["an unknown threshold", { thresholds: { error: 1 } }, `thresholds has an unknown field "error" (known: ${ALARM_THRESHOLDS.map((t) => t.key).join(", ")})`],
      ["thresholds as a list", { thresholds: [1] }, "thresholds should be a map, got a list"],
      ["a list", ["dlq"], "expected a map, got a list"],
      ["a word", "yes", "is not valid JSON"],
      ["null (an empty YAML key)", null, "expected a map, got null"],
    ];
    for (const [title, alarms, problem] of cases) {
      it(`${title} -> "alarms"`, () => {
        const err = configError(base({ alarms }));
        expect(err.issues.map((i) => i.key)).to.deep.equal(["alarms"]);
        expect(err.message).to.equal(`Invalid stack config "alarms": ${err.issues[0].message.slice('Invalid stack config "alarms": '.length)}`);
        expect(err.message).to.include(problem);
        expect(err.message).to.include(`Accepted form: ${formOf("alarms")}`);
      });
    }

    it("refuses a threshold of the shipper's own metrics when metrics are off", () => {
      for (const key of ["recordsFailed", "entriesRejected", "deliveryLagSeconds"]) {
        const err = configError(base({ metrics: "false", alarms: { thresholds: { [key]: 10 } } }));
        expect(err.issues.map((i) => i.key)).to.deep.equal(["alarms"]);
        expect(err.message).to.equal(
          `Invalid stack config "alarms": thresholds.${key} sets an alarm on the shipper's own metrics, which metrics: false turns off. ` +
          "Accepted form: turn metrics on, or leave out recordsFailed, entriesRejected, deliveryLagSeconds",
        );
      }
    });
  });

  describe("the deployment guide", () => {
    // The guide lives in docs/deployment.md until it is merged into the README.
    const guide = ["docs/deployment.md", "README.md"]
      .map((f) => path.resolve(__dirname, "..", f))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f, "utf8"))
      .join("\n");
    const cell = (s: string): string => s.replace(/\|/g, "\\|");

    it("documents every infrastructure key with its default and accepted form, as the code defines them", () => {
      for (const spec of INFRA_SETTINGS) {
        expect(guide).to.include(`| \`${spec.key}\` | ${cell(spec.defaultValue)} | ${cell(spec.acceptedForm)} | ${cell(spec.description)} |`);
      }
    });

    it("shows how to set every shipper key, with --secret for credentials", () => {
      for (const spec of SETTINGS) {
        expect(guide).to.match(new RegExp(`pulumi config set ${spec.secret ? "--secret " : "(--path '?)?"}${spec.stackKey}\\b`), spec.stackKey);
      }
    });
  });
});
