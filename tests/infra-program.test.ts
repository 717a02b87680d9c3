/**
 * The Pulumi program under unit-test mocks: for each delivery mode and the main option
 * combinations, the exact resources, their IAM and queue policies, the function's environment,
 * event source mappings, and secrets; and the example stack file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parseShipperConfig, SETTINGS } from "../handler/config";
import { LambdaPromtail } from "../infra/lambdaPromtail";
import { slug } from "../infra/names";
import { PolicyDocument } from "../infra/policies";
import { resolveCode } from "../infra/shipper";
import { INFRA_SETTINGS, parseStackSettings, StackConfigError } from "../infra/settings";
import { ACCOUNT, loadStackConfig, ProgramRun, REGION, RegisteredResource, runInMocks, runProgram } from "./support/pulumi-mocks";

const T = {
  component: "lambda-promtail:index:LambdaPromtail",
  repository: "awsx:ecr:Repository",
  image: "awsx:ecr:Image",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  fn: "aws:lambda/function:Function",
  permission: "aws:lambda/permission:Permission",
  filter: "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
  notification: "aws:s3/bucketNotification:BucketNotification",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  redriveAllow: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  secret: "aws:secretsmanager/secret:Secret",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
};

/** Resource types that take tags (and must get the stack's tags). */
const TAGGABLE = [T.repository, T.role, T.logGroup, T.fn, T.queue, T.mapping, T.rule, T.secret];

const WRITE = "https://loki.example.com/loki/api/v1/push";
const P = "lambda-promtail";
const at = `${REGION}:${ACCOUNT}`;
const FN_ARN = `arn:aws:lambda:${at}:function:${P}-function-1a2b3c4`;
const FN_NAME = `${P}-function-1a2b3c4`;
const DLQ_ARN = `arn:aws:sqs:${at}:${P}-dead-letter-1a2b3c4`;
const DLQ_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${P}-dead-letter-1a2b3c4`;
const S3Q_ARN = `arn:aws:sqs:${at}:${P}-s3-events-1a2b3c4`;
const S3Q_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${P}-s3-events-1a2b3c4`;
const OWN_LOG_GROUP_ARN = `arn:aws:logs:${at}:log-group:/aws/lambda/${P}-20240101000000000000000001`;

/** The shipper alone: component, image build, role, its log policy, log group, function. */
const CORE = [
  `${T.component} ${P}`,
  `${T.repository} ${P}-repository`,
  `${T.image} ${P}-image`,
  `${T.role} ${P}-role`,
  `${T.rolePolicy} ${P}-logs`,
  `${T.logGroup} ${P}-log-group`,
  `${T.fn} ${P}-function`,
];
const ASYNC = [`${T.queue} ${P}-dead-letter`, `${T.rolePolicy} ${P}-dead-letter`, `${T.invokeConfig} ${P}-async`];

const inventory = (run: ProgramRun): string[] => run.resources.map((r) => `${r.type} ${r.name}`).sort();
const expectInventory = (run: ProgramRun, expected: string[]): void => {
  expect(inventory(run)).to.deep.equal([...expected].sort());
};
const run = (config: Record<string, unknown>, secretKeys: string[] = []): Promise<ProgramRun> => runProgram({ writeAddress: WRITE, ...config }, { secretKeys });

const fnOf = (r: ProgramRun): RegisteredResource => r.one(T.fn);
const envOf = (r: ProgramRun): Record<string, string> => fnOf(r).inputs.environment.variables;
/** The role's inline policies by name. */
function rolePolicies(r: ProgramRun): Record<string, PolicyDocument> {
  const out: Record<string, PolicyDocument> = {};
  for (const p of r.ofType(T.rolePolicy)) {
    expect(p.inputs.role).to.equal(`${P}-role-1a2b3c4`);
    out[p.inputs.name] = JSON.parse(p.inputs.policy);
  }
  return out;
}
const statementsOf = (r: ProgramRun, name: string): PolicyDocument["Statement"] => {
  const doc = rolePolicies(r)[name];
  expect(doc, `role policy ${name}`).to.not.equal(undefined);
  return doc.Statement;
};

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

const valueOf = <V>(o: pulumi.Output<V>): Promise<V> => new Promise((resolve) => o.apply((v) => resolve(v)));

describe("infra program under Pulumi mocks", function () {
  this.timeout(60_000);

  describe("the shipper alone", () => {
    let r: ProgramRun;
    before(async () => {
      r = await run({});
    });

    it("declares exactly the role, its log policy, the log group, the image and the function", () => {
      expectInventory(r, CORE);
    });

    it("builds the image from handler/Dockerfile for the function's platform", () => {
      const image = r.one(T.image);
      expect(image.inputs).to.deep.include({ platform: "linux/amd64", dockerfile: path.resolve(__dirname, "..", "handler", "Dockerfile"), context: path.resolve(__dirname, "..") });
      expect(image.inputs.repositoryUrl).to.equal(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${P}-repository-1a2b3c4`);
      expect(r.one(T.repository).inputs).to.deep.equal({ forceDelete: true });
      expect(fnOf(r).inputs).to.deep.include({ packageType: "Image", imageUri: r.outputs.imageUri });
    });

    it("configures the function from the settings and logs to its own log group", () => {
      const fn = fnOf(r).inputs;
      expect(fn).to.deep.include({ architectures: ["x86_64"], memorySize: 256, timeout: 60, role: `arn:aws:iam::${ACCOUNT}:role/${P}-role-1a2b3c4` });
      expect(fn.loggingConfig).to.deep.equal({ logFormat: "Text", logGroup: `/aws/lambda/${P}-20240101000000000000000001` });
      for (const absent of ["reservedConcurrentExecutions", "kmsKeyArn", "vpcConfig", "runtime", "handler", "code", "name", "tags"]) expect(fn, absent).to.not.have.property(absent);
      expect(r.one(T.logGroup).inputs).to.deep.equal({ namePrefix: `/aws/lambda/${P}-`, retentionInDays: 14 });
    });

    it("passes exactly the configured shipper settings in the environment", () => {
      expect(envOf(r)).to.deep.equal({ WRITE_ADDRESS: WRITE });
      expect(() => parseShipperConfig(envOf(r))).to.not.throw();
    });

    it("lets Lambda assume the role and write only to the function's own log streams", () => {
      expect(JSON.parse(r.one(T.role).inputs.assumeRolePolicy).Statement).to.deep.equal([{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] }]);
      expect(Object.keys(rolePolicies(r))).to.deep.equal(["logs"]);
      expect(statementsOf(r, "logs")).to.deep.equal([{ Sid: "OwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${OWN_LOG_GROUP_ARN}:*` }]);
    });

    it("exports the function, role, log group and image, and no queues or rules", () => {
      expect(r.outputs).to.deep.equal({
        functionName: FN_NAME,
        functionArn: FN_ARN,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${P}-role-1a2b3c4`,
        logGroupName: `/aws/lambda/${P}-20240101000000000000000001`,
        imageUri: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${P}-repository-1a2b3c4@sha256:${"ab".repeat(32)}`,
        ruleArns: [],
      });
    });
  });

  describe("CloudWatch log groups", () => {
    let r: ProgramRun;
    before(async () => {
      r = await run({ logGroups: ["/aws/lambda/app", { name: "api-gateway", filterPattern: "?ERROR ?WARN" }] });
    });

    it("subscribes each group, with its invoke permission, and sends failed invocations to the dead-letter queue", () => {
      const app = "aws-lambda-app-54dd5e";
      expectInventory(r, [
        ...CORE,
        ...ASYNC,
        `${T.permission} ${P}-logs-allow-${app}`,
        `${T.filter} ${P}-logs-${app}`,
        `${T.permission} ${P}-logs-allow-api-gateway`,
        `${T.filter} ${P}-logs-api-gateway`,
      ]);
    });

    it("scopes each invoke permission to its log group in this account", () => {
      expect(r.one(T.permission, "-logs-allow-api-gateway").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: FN_NAME,
        principal: "logs.amazonaws.com",
        sourceArn: `arn:aws:logs:${at}:log-group:api-gateway:*`,
        sourceAccount: ACCOUNT,
      });
      expect(r.one(T.permission, "-logs-allow-aws-lambda-app-54dd5e").inputs.sourceArn).to.equal(`arn:aws:logs:${at}:log-group:/aws/lambda/app:*`);
    });

    it("filters each group with its own pattern (none by default)", () => {
      expect(r.one(T.filter, "-logs-api-gateway").inputs).to.deep.equal({ logGroup: "api-gateway", filterPattern: "?ERROR ?WARN", destinationArn: FN_ARN });
      expect(r.one(T.filter, "-logs-aws-lambda-app-54dd5e").inputs).to.deep.equal({ logGroup: "/aws/lambda/app", filterPattern: "", destinationArn: FN_ARN });
    });

    it("bounds asynchronous retries and keeps failed events in the dead-letter queue", () => {
      expect(r.one(T.invokeConfig).inputs).to.deep.equal({
        functionName: FN_NAME,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 21600,
        destinationConfig: { onFailure: { destination: DLQ_ARN } },
      });
      expect(r.one(T.queue).inputs).to.deep.equal({ messageRetentionSeconds: 1209600, sqsManagedSseEnabled: true });
      expect(Object.keys(rolePolicies(r)).sort()).to.deep.equal(["dead-letter", "logs"]);
      expect(statementsOf(r, "dead-letter")).to.deep.equal([{ Sid: "SendToDeadLetterQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: DLQ_ARN }]);
      expect(r.outputs.deadLetterQueueUrl).to.equal(DLQ_URL);
    });

    it("grants nothing for tags unless tag labels are on, then only on the subscribed groups", async () => {
      expect(rolePolicies(r)).to.not.have.property("log-group-tags");
      const tagged = await run({ logGroups: ["/aws/lambda/app", "api-gateway"], tagLabels: ["team"] });
      expect(statementsOf(tagged, "log-group-tags")).to.deep.equal([
        { Sid: "ReadLogGroupTags", Effect: "Allow", Action: ["logs:ListTagsForResource"], Resource: [`arn:aws:logs:${at}:log-group:/aws/lambda/app`, `arn:aws:logs:${at}:log-group:api-gateway`] },
      ]);
      expect(envOf(tagged)).to.include({ TAG_LABELS: "team" });
    });
  });

  describe("S3, direct delivery", () => {
    let r: ProgramRun;
    before(async () => {
      r = await run({ buckets: ["alb-logs", { name: "trail-logs", prefix: "AWSLogs/", suffix: ".json.gz" }] });
    });

    it("notifies the function from each bucket, with an invoke permission per bucket", () => {
      expectInventory(r, [
        ...CORE,
        ...ASYNC,
        `${T.rolePolicy} ${P}-s3-read`,
        `${T.permission} ${P}-s3-allow-alb-logs`,
        `${T.notification} ${P}-s3-alb-logs`,
        `${T.permission} ${P}-s3-allow-trail-logs`,
        `${T.notification} ${P}-s3-trail-logs`,
      ]);
    });

    it("scopes each permission to its bucket in this account", () => {
      expect(r.one(T.permission, "-s3-allow-trail-logs").inputs).to.deep.equal({
        action: "lambda:InvokeFunction",
        function: FN_NAME,
        principal: "s3.amazonaws.com",
        sourceArn: "arn:aws:s3:::trail-logs",
        sourceAccount: ACCOUNT,
      });
    });

    it("notifies on object creation with the bucket's key filters", () => {
      expect(r.one(T.notification, "-s3-trail-logs").inputs).to.deep.equal({
        bucket: "trail-logs",
        lambdaFunctions: [{ lambdaFunctionArn: FN_ARN, events: ["s3:ObjectCreated:*"], filterPrefix: "AWSLogs/", filterSuffix: ".json.gz" }],
      });
      expect(r.one(T.notification, "-s3-alb-logs").inputs.lambdaFunctions).to.deep.equal([{ lambdaFunctionArn: FN_ARN, events: ["s3:ObjectCreated:*"] }]);
    });

    it("reads only the notified objects", () => {
      expect(statementsOf(r, "s3-read")).to.deep.equal([{ Sid: "ReadLogObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: ["arn:aws:s3:::alb-logs/*", "arn:aws:s3:::trail-logs/AWSLogs/*"] }]);
    });
  });

  describe("S3, SQS delivery", () => {
    let r: ProgramRun;
    before(async () => {
      r = await run({ bucketDelivery: "sqs", bucketPrefix: "AWSLogs/", buckets: ["alb-logs", "trail-logs"], timeout: 120, sqsBatchSize: 2, sqsMaxReceiveCount: 4 });
    });

    it("declares the queue, its dead-letter queue, policies, notifications and the mapping, and no async config", () => {
      expectInventory(r, [
        ...CORE,
        `${T.queue} ${P}-dead-letter`,
        `${T.queue} ${P}-s3-events`,
        `${T.redriveAllow} ${P}-dead-letter-redrive-allow`,
        `${T.queuePolicy} ${P}-s3-events-policy`,
        `${T.rolePolicy} ${P}-s3-read`,
        `${T.rolePolicy} ${P}-sqs-consume`,
        `${T.notification} ${P}-s3-alb-logs`,
        `${T.notification} ${P}-s3-trail-logs`,
        `${T.mapping} ${P}-s3-events`,
      ]);
    });

    it("encrypts the queue, redrives to the dead-letter queue, and hides messages for six function timeouts", () => {
      const queue = r.one(T.queue, "-s3-events").inputs;
      expect(queue).to.deep.include({ sqsManagedSseEnabled: true, visibilityTimeoutSeconds: 720, messageRetentionSeconds: 345600 });
      expect(queue.visibilityTimeoutSeconds).to.be.at.least(6 * 120);
      expect(JSON.parse(queue.redrivePolicy)).to.deep.equal({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 4 });
      expect(r.one(T.queue, "-dead-letter").inputs.messageRetentionSeconds).to.be.greaterThan(queue.messageRetentionSeconds);
    });

    it("lets only the S3 event queue use the dead-letter queue", () => {
      const allow = r.one(T.redriveAllow).inputs;
      expect(allow.queueUrl).to.equal(DLQ_URL);
      expect(JSON.parse(allow.redriveAllowPolicy)).to.deep.equal({ redrivePermission: "byQueue", sourceQueueArns: [S3Q_ARN] });
    });

    it("lets only the configured buckets of this account send to the queue", () => {
      const policy = r.one(T.queuePolicy).inputs;
      expect(policy.queueUrl).to.equal(S3Q_URL);
      expect(JSON.parse(policy.policy).Statement).to.deep.equal([
        {
          Sid: "ConfiguredBucketsSend",
          Effect: "Allow",
          Principal: { Service: "s3.amazonaws.com" },
          Action: ["sqs:SendMessage"],
          Resource: S3Q_ARN,
          Condition: { ArnLike: { "aws:SourceArn": ["arn:aws:s3:::alb-logs", "arn:aws:s3:::trail-logs"] }, StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ]);
    });

    it("notifies the queue with the key filters", () => {
      expect(r.one(T.notification, "-s3-alb-logs").inputs).to.deep.equal({ bucket: "alb-logs", queues: [{ queueArn: S3Q_ARN, events: ["s3:ObjectCreated:*"], filterPrefix: "AWSLogs/" }] });
    });

    it("maps the queue to the function with partial batch failures", () => {
      expect(r.one(T.mapping).inputs).to.deep.equal({ eventSourceArn: S3Q_ARN, functionName: FN_ARN, batchSize: 2, functionResponseTypes: ["ReportBatchItemFailures"] });
    });

    it("consumes its own queue only, and sends nothing to the dead-letter queue itself", () => {
      expect(Object.keys(rolePolicies(r)).sort()).to.deep.equal(["logs", "s3-read", "sqs-consume"]);
      expect(statementsOf(r, "sqs-consume")).to.deep.equal([{ Sid: "ConsumeS3EventQueue", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: S3Q_ARN }]);
      expect(statementsOf(r, "s3-read")[0].Resource).to.deep.equal(["arn:aws:s3:::alb-logs/AWSLogs/*", "arn:aws:s3:::trail-logs/AWSLogs/*"]);
      expect(r.outputs).to.include({ queueUrl: S3Q_URL, deadLetterQueueUrl: DLQ_URL });
    });
  });

  describe("S3, EventBridge delivery", () => {
    let r: ProgramRun;
    const RULE_ARN = `arn:aws:events:${at}:rule/${P}-s3-object-created-1a2b3c4`;
    before(async () => {
      r = await run({ bucketDelivery: "eventbridge", buckets: [{ name: "alb-logs", prefix: "AWSLogs/", suffix: ".gz" }, "flow-logs"] });
    });

    it("turns on EventBridge notifications and routes Object Created through one rule", () => {
      expectInventory(r, [
        ...CORE,
        ...ASYNC,
        `${T.rolePolicy} ${P}-s3-read`,
        `${T.notification} ${P}-s3-alb-logs`,
        `${T.notification} ${P}-s3-flow-logs`,
        `${T.rule} ${P}-s3-object-created`,
        `${T.target} ${P}-s3-object-created`,
        `${T.permission} ${P}-s3-object-created-allow`,
        `${T.queuePolicy} ${P}-dead-letter-policy`,
      ]);
      expect(r.one(T.notification, "-s3-alb-logs").inputs).to.deep.equal({ bucket: "alb-logs", eventbridge: true });
    });

    it("matches the configured buckets and keys only", () => {
      expect(JSON.parse(r.one(T.rule).inputs.eventPattern)).to.deep.equal({
        source: ["aws.s3"],
        "detail-type": ["Object Created"],
        detail: {
          $or: [
            { bucket: { name: ["alb-logs"] }, object: { key: [{ wildcard: "AWSLogs/*.gz" }] } },
            { bucket: { name: ["flow-logs"] } },
          ],
        },
      });
    });

    it("invokes the function with bounded retries, a dead-letter queue, and a permission scoped to the rule", () => {
      expect(r.one(T.target).inputs).to.deep.equal({
        rule: `${P}-s3-object-created-1a2b3c4`,
        arn: FN_ARN,
        retryPolicy: { maximumEventAgeInSeconds: 21600, maximumRetryAttempts: 20 },
        deadLetterConfig: { arn: DLQ_ARN },
      });
      expect(r.one(T.permission).inputs).to.deep.equal({ action: "lambda:InvokeFunction", function: FN_NAME, principal: "events.amazonaws.com", sourceArn: RULE_ARN });
      expect(JSON.parse(r.one(T.queuePolicy).inputs.policy).Statement).to.deep.equal([
        { Sid: "RulesDeadLetter", Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: ["sqs:SendMessage"], Resource: DLQ_ARN, Condition: { ArnEquals: { "aws:SourceArn": [RULE_ARN] } } },
      ]);
      expect(r.outputs.ruleArns).to.deep.equal([RULE_ARN]);
    });
  });

  describe("S3, a delivery mode per bucket", () => {
    it("declares each mode's resources for its buckets only", async () => {
      const r = await run({ buckets: ["direct-logs", { name: "queued-logs", delivery: "sqs" }, { name: "bus-logs", delivery: "eventbridge" }] });
      expect(r.ofType(T.notification).map((n) => [n.inputs.bucket, Object.keys(n.inputs).filter((k) => k !== "bucket")[0]])).to.have.deep.members([
        ["direct-logs", "lambdaFunctions"],
        ["queued-logs", "queues"],
        ["bus-logs", "eventbridge"],
      ]);
      expect(r.ofType(T.queue)).to.have.length(2);
      expect(r.ofType(T.mapping)).to.have.length(1);
      expect(r.ofType(T.rule)).to.have.length(1);
      expect(JSON.parse(r.one(T.queuePolicy, "-s3-events-policy").inputs.policy).Statement[0].Condition.ArnLike["aws:SourceArn"]).to.deep.equal(["arn:aws:s3:::queued-logs"]);
      expect(JSON.parse(r.one(T.rule).inputs.eventPattern).detail.bucket.name).to.deep.equal(["bus-logs"]);
      expect(Object.keys(rolePolicies(r)).sort()).to.deep.equal(["dead-letter", "logs", "s3-read", "sqs-consume"]);
    });
  });

  describe("Kinesis streams", () => {
    let r: ProgramRun;
    const arn = "arn:aws:kinesis:us-east-1:210987654321:stream/shared-logs";
    before(async () => {
      r = await run({ kinesisStreams: ["app-logs", { stream: arn, batchSize: 500, startingPosition: "TRIM_HORIZON", maximumRetryAttempts: 5 }] });
    });

    it("maps each existing stream, creating no stream and no async config", () => {
      expectInventory(r, [
        ...CORE,
        `${T.queue} ${P}-dead-letter`,
        `${T.rolePolicy} ${P}-dead-letter`,
        `${T.rolePolicy} ${P}-kinesis-read`,
        `${T.mapping} ${P}-kinesis-app-logs`,
        `${T.mapping} ${P}-kinesis-shared-logs`,
      ]);
    });

    it("reports item failures, bisects, retries a bounded number of times and keeps failures", () => {
      expect(r.one(T.mapping, "-kinesis-app-logs").inputs).to.deep.equal({
        eventSourceArn: `arn:aws:kinesis:${at}:stream/app-logs`,
        functionName: FN_ARN,
        startingPosition: "LATEST",
        batchSize: 100,
        functionResponseTypes: ["ReportBatchItemFailures"],
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 3,
        destinationConfig: { onFailure: { destinationArn: DLQ_ARN } },
      });
      expect(r.one(T.mapping, "-kinesis-shared-logs").inputs).to.deep.include({ eventSourceArn: arn, startingPosition: "TRIM_HORIZON", batchSize: 500, maximumRetryAttempts: 5 });
    });

    it("reads the configured streams with read actions only", () => {
      expect(statementsOf(r, "kinesis-read")).to.deep.equal([
        {
          Sid: "ReadStreams",
          Effect: "Allow",
          Action: ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
          Resource: [`arn:aws:kinesis:${at}:stream/app-logs`, arn],
        },
      ]);
    });
  });

  describe("encrypted sources (SSE-KMS buckets, streams with a customer-managed key)", () => {
    const key = (id: string, region = REGION) => `arn:aws:kms:${region}:${ACCOUNT}:key/${id}`;

    it("may decrypt with each source's key, through that source's service only, and with no other key", async () => {
      const r = await run({
        buckets: [{ name: "trail-logs", kmsKeyArn: key("trail"), delivery: "sqs" }, { name: "flow-logs", kmsKeyArn: key("flow"), delivery: "eventbridge" }, "alb-logs", { name: "eu-logs", kmsKeyArn: key("eu", "eu-west-1") }],
        kinesisStreams: [{ stream: "cw-logs", kmsKeyArn: key("stream") }, "plain"],
      });
      expect(statementsOf(r, "source-kms")).to.deep.equal([
        { Sid: "DecryptLogObjects1", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [key("eu", "eu-west-1")], Condition: { StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } } },
        { Sid: "DecryptLogObjects2", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [key("trail"), key("flow")], Condition: { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } } },
        { Sid: "DecryptStreamRecords", Effect: "Allow", Action: ["kms:Decrypt"], Resource: [key("stream")], Condition: { StringEquals: { "kms:ViaService": `kinesis.${REGION}.amazonaws.com` } } },
      ]);
      expect(rolePolicies(r)).to.not.have.property("kms");
    });

    it("declares no decrypt grant when no source names a key", async () => {
      const r = await run({ buckets: ["alb-logs"], kinesisStreams: ["cw-logs"] });
      expect(rolePolicies(r)).to.not.have.property("source-kms");
    });
  });

  describe("credentials", () => {
    const PLAIN = "glc_super-secret-token";
    let r: ProgramRun;
    before(async () => {
      r = await run({ username: "123456", password: PLAIN }, ["password"]);
    });

    it("stores plaintext credentials in Secrets Manager and passes their ARNs", () => {
      expectInventory(r, [
        ...CORE,
        `${T.secret} ${P}-username`,
        `${T.secretVersion} ${P}-username`,
        `${T.secret} ${P}-password`,
        `${T.secretVersion} ${P}-password`,
        `${T.rolePolicy} ${P}-credentials`,
      ]);
      const userArn = `arn:aws:secretsmanager:${at}:secret:${P}-username-1a2b3c4-AbCdEf`;
      const passwordArn = `arn:aws:secretsmanager:${at}:secret:${P}-password-1a2b3c4-AbCdEf`;
      expect(envOf(r)).to.deep.equal({ WRITE_ADDRESS: WRITE, USERNAME: userArn, PASSWORD: passwordArn });
      const cfg = parseShipperConfig(envOf(r));
      expect(cfg.username).to.deep.equal({ kind: "secretsmanager", arn: userArn });
      expect(cfg.password).to.deep.equal({ kind: "secretsmanager", arn: passwordArn });
      expect(statementsOf(r, "credentials")).to.deep.equal([{ Sid: "ReadCredentialSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [userArn, passwordArn] }]);
    });

    it("keeps the values secret: only in the secret versions, marked secret, never in outputs", () => {
      const version = r.one(T.secretVersion, "-password");
      expect(version.inputs.secretString).to.equal(PLAIN);
      expect(version.secretPaths).to.deep.equal(["secretString"]);
      expect(r.one(T.secretVersion, "-username").secretPaths).to.deep.equal(["secretString"]);
      for (const res of r.resources.filter((x) => x !== version)) expect(JSON.stringify(res.inputs), `${res.type} ${res.name}`).to.not.include(PLAIN);
      expect(JSON.stringify(r.outputs)).to.not.include(PLAIN);
      expect(r.secretOutputs).to.deep.equal([]);
    });

    it("passes ARNs through and grants exactly those secrets and parameters", async () => {
      const secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:loki-token-AbCdEf";
      const parameterArn = "arn:aws:ssm:us-east-1:123456789012:parameter/loki/user";
      const byArn = await run({ username: parameterArn, password: secretArn });
      expect(byArn.ofType(T.secret)).to.deep.equal([]);
      expect(envOf(byArn)).to.deep.equal({ WRITE_ADDRESS: WRITE, USERNAME: parameterArn, PASSWORD: secretArn });
      expect(statementsOf(byArn, "credentials")).to.deep.equal([
        { Sid: "ReadCredentialSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] },
        { Sid: "ReadCredentialParameters", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [parameterArn] },
      ]);
    });

    it("grants a secret given by its partial ARN (without Secrets Manager's 6-character suffix) as IAM matches it: the name and any suffix", async () => {
      const partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:loki-token";
      const r = await run({ bearerToken: partial });
      expect(envOf(r)).to.deep.equal({ WRITE_ADDRESS: WRITE, BEARER_TOKEN: partial });
      expect(statementsOf(r, "credentials")).to.deep.equal([
        { Sid: "ReadCredentialSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [`${partial}-??????`] },
      ]);
    });

    it("encrypts secrets and the environment with the configured key, and may decrypt with it", async () => {
      const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
      const k = await run({ bearerToken: "token", kmsKeyArn: key });
      expect(k.one(T.secret).inputs.kmsKeyId).to.equal(key);
      expect(fnOf(k).inputs.kmsKeyArn).to.equal(key);
      expect(statementsOf(k, "kms")).to.deep.equal([{ Sid: "DecryptWithConfiguredKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: key }]);
      expect(Object.keys(envOf(k)).sort()).to.deep.equal(["BEARER_TOKEN", "WRITE_ADDRESS"]);
    });
  });

  describe("function options", () => {
    it("applies name, architecture, size, timeout, concurrency and retention", async () => {
      const r = await run({ functionName: "shipper", architecture: "arm64", memorySize: 512, timeout: 30, reservedConcurrency: 5, logRetentionDays: 30 });
      expect(fnOf(r).inputs).to.deep.include({ name: "shipper", architectures: ["arm64"], memorySize: 512, timeout: 30, reservedConcurrentExecutions: 5 });
      expect(r.one(T.logGroup).inputs).to.deep.equal({ name: "/aws/lambda/shipper", retentionInDays: 30 });
      expect(fnOf(r).inputs.loggingConfig.logGroup).to.equal("/aws/lambda/shipper");
      expect(r.one(T.image).inputs.platform).to.equal("linux/arm64");
    });

    it("runs in a VPC with the network-interface grant, the only wildcard resource", async () => {
      const r = await run({ vpcSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], vpcSecurityGroupIds: "sg-0123456789abcdef0" });
      expect(fnOf(r).inputs.vpcConfig).to.deep.equal({ subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"], securityGroupIds: ["sg-0123456789abcdef0"] });
      expect(statementsOf(r, "vpc-access")[0]).to.deep.include({ Resource: "*" });
      expectInventory(r, [...CORE, `${T.rolePolicy} ${P}-vpc-access`]);
    });

    it("runs a given image without building one", async () => {
      const imageUri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lambda-promtail:1.2.3";
      const r = await run({ imageUri });
      expectInventory(r, CORE.filter((x) => !x.startsWith("awsx:")));
      expect(fnOf(r).inputs).to.deep.include({ packageType: "Image", imageUri });
      expect(r.outputs.imageUri).to.equal(imageUri);
    });

    describe("zip package", () => {
      let dir: string;
      before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "lp-bundle-"));
        fs.writeFileSync(path.join(dir, "index.js"), "exports.handler = async () => ({});\n");
        fs.mkdirSync(path.join(dir, "node_modules", "@napi-rs", "snappy-linux-x64-gnu"), { recursive: true });
      });
      after(() => fs.rmSync(dir, { recursive: true, force: true }));

      it("zips the bundle for the Node.js 22 runtime, without an image", async () => {
        const r = await run({ packageType: "zip", bundlePath: path.join(dir, "index.js") });
        expectInventory(r, CORE.filter((x) => !x.startsWith("awsx:")));
        const fn = fnOf(r).inputs;
        expect(fn).to.deep.include({ packageType: "Zip", runtime: "nodejs22.x", handler: "index.handler" });
        expect(fn).to.not.have.property("imageUri");
        expect(pulumi.asset.AssetArchive.isInstance(fn.code)).to.equal(true);
        const assets = await fn.code.assets;
        expect(Object.keys(assets)).to.deep.equal(["index.js", "node_modules/@napi-rs/snappy-linux-x64-gnu"]);
        expect(await assets["index.js"].path).to.equal(path.join(dir, "index.js"));
        expect(r.outputs).to.not.have.property("imageUri");
      });

      it("zips the native snappy binding staged next to the bundle for the function's CPU", async () => {
        const staged = fs.mkdtempSync(path.join(os.tmpdir(), "lp-bundle-"));
        try {
          fs.writeFileSync(path.join(staged, "index.js"), "exports.handler = async () => ({});\n");
          const binding = path.join(staged, "node_modules", "@napi-rs", "snappy-linux-arm64-gnu");
          fs.mkdirSync(binding, { recursive: true });
          fs.writeFileSync(path.join(binding, "package.json"), "{}");
          const r = await run({ packageType: "zip", bundlePath: path.join(staged, "index.js"), architecture: "arm64" });
          const assets = await fnOf(r).inputs.code.assets;
          expect(Object.keys(assets)).to.deep.equal(["index.js", "node_modules/@napi-rs/snappy-linux-arm64-gnu"]);
          expect(pulumi.asset.FileArchive.isInstance(assets["node_modules/@napi-rs/snappy-linux-arm64-gnu"])).to.equal(true);
          expect(await assets["node_modules/@napi-rs/snappy-linux-arm64-gnu"].path).to.equal(binding);
        } finally {
          fs.rmSync(staged, { recursive: true, force: true });
        }
      });

      it("warns at preview when no binding for the function's CPU is staged (the function would use snappyjs)", () => {
        const warnings: string[] = [];
        const code = resolveCode({ kind: "zip", bundlePath: path.join(dir, "index.js") }, dir, "arm64", (m) => warnings.push(m));
        expect(code).to.deep.equal({ kind: "zip", bundle: path.join(dir, "index.js") });
        expect(warnings).to.deep.equal([
          `packageType zip: ${path.join(dir, "node_modules", "@napi-rs", "snappy-linux-arm64-gnu")} does not exist, so the function will compress with snappyjs, several times slower. ` +
          "Build with `LAMBDA_ARCHITECTURE=arm64 npm run build` to stage the native snappy binding for arm64.",
        ]);
      });

      it("fails before declaring anything when the bundle was not built", async () => {
        const err = await rejection(run({ packageType: "zip", bundlePath: path.join(dir, "missing.js") }));
        expect(err.message).to.equal(`packageType zip: the handler bundle ${path.join(dir, "missing.js")} does not exist. Run \`npm run build\` first, or set bundlePath to the bundle.`);
      });
    });

    it("tags every taggable resource", async () => {
      const tags = { team: "observability", env: "dev" };
      const r = await run({ tags, logGroups: ["app"], bucketDelivery: "sqs", buckets: ["alb-logs", { name: "bus-logs", delivery: "eventbridge" }], kinesisStreams: ["s"], password: "p", username: "u" });
      const taggable = r.resources.filter((x) => TAGGABLE.includes(x.type));
      expect(new Set(taggable.map((x) => x.type))).to.have.property("size", TAGGABLE.length);
      for (const res of taggable) expect(res.inputs.tags, `${res.type} ${res.name}`).to.deep.equal(tags);
    });
  });

  describe("the whole picture", () => {
    let r: ProgramRun;
    before(async () => {
      r = await run({
        logGroups: ["app"],
        buckets: ["direct-logs", { name: "queued-logs", delivery: "sqs" }, { name: "bus-logs", delivery: "eventbridge" }],
        kinesisStreams: ["s"],
        username: "u",
        password: "p",
        kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k-1",
        vpcSubnetIds: "subnet-0123456789abcdef0",
        vpcSecurityGroupIds: "sg-0123456789abcdef0",
        tagLabels: "team",
      });
    });

    it("grants no wildcard action, and a wildcard resource only for VPC network interfaces", () => {
      const policies = rolePolicies(r);
      expect(Object.keys(policies).sort()).to.deep.equal(["credentials", "dead-letter", "kinesis-read", "kms", "log-group-tags", "logs", "s3-read", "sqs-consume", "vpc-access"]);
      for (const [name, doc] of Object.entries(policies)) {
        for (const st of doc.Statement) {
          for (const action of st.Action) expect(action, name).to.not.include("*");
          if (name === "vpc-access") continue;
          for (const res of ([] as string[]).concat(st.Resource ?? [])) {
            expect(res, name).to.match(/^arn:aws:/);
            // Only a log group's streams (`…:*`) and a bucket's objects under a prefix (`…/prefix*`).
            if (res.includes("*")) expect(res, name).to.match(/^arn:aws:(logs:[^*]+:\*|s3:::[^*/]+\/[^*]*\*)$/);
          }
        }
      }
      expect(policies["vpc-access"].Statement[0].Resource).to.equal("*");
    });

    it("parents every resource under the component", async () => {
      let component: LambdaPromtail | undefined;
      const settings = parseStackSettings({ writeAddress: WRITE, logGroups: ["app"], buckets: ["direct-logs", { name: "queued-logs", delivery: "sqs" }, { name: "bus-logs", delivery: "eventbridge" }], kinesisStreams: ["s"] });
      await runInMocks(() => {
        component = new LambdaPromtail("lp", { settings });
        return {};
      });
      const c = component as LambdaPromtail;
      const children = [
        c.shipper.function,
        c.shipper.role,
        c.shipper.logGroup,
        ...Object.values(c.shipper.policies),
        c.deadLetterQueue,
        c.s3Queue?.queue,
        c.s3Queue?.mapping,
        ...c.logGroupSubscriptions.flatMap((s) => [s.permission, s.filter]),
        ...c.directBuckets.flatMap((b) => [b.permission, b.notification]),
        c.eventBridge?.rule,
        ...c.kinesisMappings,
        c.asyncInvokeConfig,
      ];
      expect(children.every((x) => x !== undefined)).to.equal(true);
      for (const child of children as pulumi.Resource[]) {
        expect(await valueOf(child.urn)).to.match(/::lambda-promtail:index:LambdaPromtail\$aws:/);
      }
    });

    it("passes an environment the handler accepts, and only its settings", () => {
      const env = envOf(r);
      const known = SETTINGS.map((s) => s.env);
      expect(Object.keys(env).every((k) => known.includes(k))).to.equal(true);
      expect(() => parseShipperConfig(env)).to.not.throw();
    });
  });

  describe("names of long sources (the mocks fail as the provider does on a logical name too long for its autonamed field)", () => {
    const longGroup = (end: string) => `/aws/${"a".repeat(505)}${end}`;
    const fnGroup = `/aws/lambda/${"f".repeat(64)}`;
    const bucket = `b${"-".repeat(61)}b`;
    const stream = "s".repeat(128);

    for (const delivery of ["direct", "sqs", "eventbridge"]) {
      it(`previews with 512-character log groups, a function's log group, a 63-character bucket (${delivery}) and a 128-character stream; their names stay distinct`, async () => {
        const r = await run({ logGroups: [longGroup("-1"), longGroup("-2"), fnGroup], buckets: [bucket], bucketDelivery: delivery, kinesisStreams: [stream], alarms: true });
        expect(longGroup("-1")).to.have.length(512);
        const permissions = r.ofType(T.permission).map((p) => p.name);
        expect(permissions).to.have.length(delivery === "sqs" ? 3 : 4);
        expect(new Set(permissions).size).to.equal(permissions.length);
        for (const name of permissions) expect(name.length + 8, name).to.be.at.most(100);
        const filters = r.ofType(T.filter);
        expect(new Set(filters.map((f) => f.name)).size).to.equal(3);
        expect(filters.map((f) => f.inputs.logGroup)).to.deep.equal([longGroup("-1"), longGroup("-2"), fnGroup]);
      });
    }

    it("keeps the logical names of sources that fit as they were, so that an upgrade replaces nothing", async () => {
      const r = await run({ logGroups: ["/aws/lambda/app"], buckets: ["alb-logs"] });
      expect(r.ofType(T.permission).map((p) => p.name).sort()).to.deep.equal([`${P}-logs-allow-aws-lambda-app-${slug("/aws/lambda/app").slice(-6)}`, `${P}-s3-allow-alb-logs`]);
      expect(r.one(T.filter).name).to.equal(`${P}-logs-${slug("/aws/lambda/app")}`);
    });
  });

  describe("config errors", () => {
    it("rejects the program with the handler's message before declaring anything", async () => {
      let resources: RegisteredResource[] | undefined;
      const err = await rejection(
        runProgram({ "aws:region": "us-east-1", memorySize: "lots" }).then((x) => {
          resources = x.resources;
        }),
      );
      expect(err).to.be.instanceOf(StackConfigError);
      expect((err as StackConfigError).issues.map((i) => i.key)).to.deep.equal(["writeAddress", "memorySize"]);
      expect(err.message).to.include('Invalid stack config "writeAddress": WRITE_ADDRESS: is required but not set. Accepted form: an http:// or https:// URL');
      expect(resources).to.equal(undefined);
    });

    it("declares nothing after a rejected run, and the next run is clean", async () => {
      await rejection(run({ memorySize: 1 }));
      const r = await run({});
      expectInventory(r, CORE);
    });
  });

  describe("stack config as the Pulumi CLI passes it", () => {
    it("reads JSON-encoded structured values and string scalars like their YAML forms", async () => {
      const yamlForm = await run({ logGroups: ["app", { name: "api", filterPattern: "ERROR" }], extraLabels: { env: "dev" }, keepStream: true, timeout: 90, tags: { a: "b" } });
      const cliForm = await run({ logGroups: '["app",{"name":"api","filterPattern":"ERROR"}]', extraLabels: '{"env":"dev"}', keepStream: "true", timeout: "90", tags: '{"a":"b"}' });
      const strip = (x: ProgramRun): unknown => x.resources.map((res) => [res.type, res.name, res.inputs]);
      expect(strip(cliForm)).to.deep.equal(strip(yamlForm));
    });

    it("previews too", async () => {
      const r = await runProgram({ writeAddress: WRITE, logGroups: ["app"] }, { preview: true });
      expect(r.ofType(T.filter)).to.have.length(1);
    });
  });

  describe("the example stack (Pulumi.dev.yaml)", () => {
    it("is valid and declares the shipper with one log group subscription and its alarms", async () => {
      const config = loadStackConfig();
      const r = await runProgram(config);
      expectInventory(r, [
        ...CORE,
        ...ASYNC,
        `${T.permission} ${P}-logs-allow-aws-lambda-my-app-fc879d`,
        `${T.filter} ${P}-logs-aws-lambda-my-app-fc879d`,
        // The alarms themselves are checked in tests/infra-alarms.test.ts.
        ...["dead-letter", "errors", "throttles", "dead-letter-delivery", "records-failed-cloudwatch", "entries-rejected-cloudwatch", "delivery-lag-cloudwatch"].map((id) => `${T.alarm} ${P}-alarm-${id}`),
      ]);
      expect(envOf(r)).to.deep.equal({
        WRITE_ADDRESS: WRITE,
        EXTRA_LABELS: "env,dev",
        RELABEL_CONFIGS: '[{"source_labels":["__aws_cloudwatch_log_group"],"target_label":"log_group"}]',
        STRUCTURED_METADATA: "cloudwatch_log_stream",
      });
      expect(r.one(T.logGroup).inputs.tags).to.deep.equal({ team: "observability" });
    });

    it("lists every setting, commented or set", () => {
      const text = fs.readFileSync(path.resolve(__dirname, "..", "Pulumi.dev.yaml"), "utf8");
      const keys = [...SETTINGS.map((s) => s.stackKey), ...INFRA_SETTINGS.map((s) => s.key)];
      const missing = keys.filter((k) => !new RegExp(`lambda-promtail:${k}:|config set (--secret )?${k} `).test(text));
      expect(missing).to.deep.equal([]);
    });
  });
});
