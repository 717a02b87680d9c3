/** IAM and resource policy documents, event patterns and names: pure functions. */
import { expect } from "chai";
import { fitLogicalName, slug } from "../infra/names";
import * as policies from "../infra/policies";
import { keyFilters } from "../infra/s3Direct";
import { keyMatcher, objectCreatedPattern } from "../infra/s3EventBridge";
import { BucketSource } from "../infra/settings";

const bucket = (name: string, prefix = "", suffix = ""): BucketSource => ({ name, prefix, suffix, delivery: "eventbridge" });

describe("infra policies: documents", () => {
  it("lets only Lambda assume the role, with no resource field in the trust policy", () => {
    expect(policies.lambdaAssumeRolePolicy()).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] }],
    });
  });

  it("writes only to the function's own log group's streams", () => {
    const arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/shipper";
    expect(policies.logsWritePolicy(arn).Statement).to.deep.equal([
      { Sid: "OwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${arn}:*` },
    ]);
  });

  it("reads objects only under each bucket's prefix", () => {
    expect(policies.bucketObjectsArn("aws", "alb-logs", "AWSLogs/")).to.equal("arn:aws:s3:::alb-logs/AWSLogs/*");
    expect(policies.bucketObjectsArn("aws-cn", "alb-logs", "")).to.equal("arn:aws-cn:s3:::alb-logs/*");
    // S3 keys may hold IAM's wildcards: they are granted as the characters themselves.
    expect(policies.bucketObjectsArn("aws", "logs", "team*/")).to.equal("arn:aws:s3:::logs/team${*}/*");
    expect(policies.bucketObjectsArn("aws", "logs", "a?b/$x/")).to.equal("arn:aws:s3:::logs/a${?}b/${$}x/*");
    expect(policies.s3ReadPolicy(["arn:aws:s3:::a/*"]).Statement).to.deep.equal([{ Sid: "ReadLogObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: ["arn:aws:s3:::a/*"] }]);
  });

  it("reads Kinesis streams with read actions only, never kinesis:*", () => {
    const [statement] = policies.kinesisReadPolicy(["arn:aws:kinesis:us-east-1:123456789012:stream/s"]).Statement;
    expect(statement.Action).to.deep.equal(["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]);
    expect(statement.Resource).to.deep.equal(["arn:aws:kinesis:us-east-1:123456789012:stream/s"]);
  });

  it("consumes its own queue and sends only to the dead-letter queue", () => {
    expect(policies.sqsConsumePolicy("arn:q").Statement[0]).to.deep.include({ Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: "arn:q" });
    expect(policies.deadLetterSendPolicy("arn:dlq").Statement[0]).to.deep.include({ Action: ["sqs:SendMessage"], Resource: "arn:dlq" });
  });

  it("reads exactly the credentials' secrets and parameters", () => {
    const s1 = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s1-AbCdEf";
    expect(policies.credentialsReadPolicy([s1], []).Statement).to.deep.equal([{ Sid: "ReadCredentialSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [s1] }]);
    expect(policies.credentialsReadPolicy([], ["arn:p1"]).Statement).to.deep.equal([{ Sid: "ReadCredentialParameters", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: ["arn:p1"] }]);
    expect(policies.credentialsReadPolicy([s1], ["arn:p1"]).Statement).to.have.length(2);
    // IAM matches the complete ARN: a partial one (no 6-character suffix) needs the suffix pattern.
    const secretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:";
    for (const [given, granted] of [
      [`${secretArn}loki-token-AbCdEf`, `${secretArn}loki-token-AbCdEf`],
      [`${secretArn}loki-token`, `${secretArn}loki-token-??????`],
      [`${secretArn}loki/token`, `${secretArn}loki/token-??????`],
      [`${secretArn}loki-tok`, `${secretArn}loki-tok-??????`],
    ]) {
      expect(policies.credentialsReadPolicy([given], []).Statement[0].Resource, given).to.deep.equal([granted]);
    }
  });

  it("decrypts with the configured key only", () => {
    expect(policies.kmsDecryptPolicy("arn:aws:kms:us-east-1:123456789012:key/k").Statement[0]).to.deep.include({ Action: ["kms:Decrypt"], Resource: "arn:aws:kms:us-east-1:123456789012:key/k" });
  });

  it("uses a wildcard resource only for the VPC network-interface actions", () => {
    expect(policies.vpcAccessPolicy().Statement).to.deep.equal([{ Sid: "VpcNetworkInterfaces", Effect: "Allow", Action: policies.VPC_ACCESS_ACTIONS, Resource: "*" }]);
    expect(policies.VPC_ACCESS_ACTIONS.every((a) => a.startsWith("ec2:"))).to.equal(true);
  });

  it("reads tags of the subscribed log groups only", () => {
    const arn = policies.logGroupArn("aws", "us-east-1", "123456789012", "/aws/lambda/app");
    expect(arn).to.equal("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/app");
    expect(policies.logGroupTagsPolicy([arn]).Statement[0]).to.deep.include({ Action: ["logs:ListTagsForResource"], Resource: [arn] });
  });

  it("lets only the configured buckets of this account send to the S3 event queue", () => {
    expect(policies.s3ToQueuePolicy("arn:q", ["arn:aws:s3:::a", "arn:aws:s3:::b"], "123456789012").Statement).to.deep.equal([
      {
        Sid: "ConfiguredBucketsSend",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: ["sqs:SendMessage"],
        Resource: "arn:q",
        Condition: { ArnLike: { "aws:SourceArn": ["arn:aws:s3:::a", "arn:aws:s3:::b"] }, StringEquals: { "aws:SourceAccount": "123456789012" } },
      },
    ]);
  });

  it("lets only the EventBridge rule dead-letter into the dead-letter queue", () => {
    expect(policies.eventsToQueuePolicy("arn:dlq", ["arn:rule"]).Statement[0]).to.deep.include({
      Principal: { Service: "events.amazonaws.com" },
      Action: ["sqs:SendMessage"],
      Resource: "arn:dlq",
      Condition: { ArnEquals: { "aws:SourceArn": ["arn:rule"] } },
    });
  });

  it("builds stream ARNs from names", () => {
    expect(policies.streamArn("aws", "eu-west-1", "123456789012", "s")).to.equal("arn:aws:kinesis:eu-west-1:123456789012:stream/s");
  });
});

describe("infra EventBridge: Object Created pattern", () => {
  it("matches the buckets sharing one filter in one clause", () => {
    expect(objectCreatedPattern([bucket("a", "AWSLogs/"), bucket("b", "AWSLogs/")])).to.deep.equal({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: { bucket: { name: ["a", "b"] }, object: { key: [{ prefix: "AWSLogs/" }] } },
    });
  });

  it("matches every key of a bucket without filters", () => {
    expect(objectCreatedPattern([bucket("a")]).detail).to.deep.equal({ bucket: { name: ["a"] } });
  });

  it("offers buckets with different filters as alternatives", () => {
    expect(objectCreatedPattern([bucket("a", "x/"), bucket("b", "", ".gz"), bucket("c", "x/")]).detail).to.deep.equal({
      $or: [
        { bucket: { name: ["a", "c"] }, object: { key: [{ prefix: "x/" }] } },
        { bucket: { name: ["b"] }, object: { key: [{ suffix: ".gz" }] } },
      ],
    });
  });

  it("combines a prefix and a suffix into an escaped wildcard", () => {
    expect(keyMatcher({ prefix: "AWSLogs/", suffix: ".gz" })).to.deep.equal([{ wildcard: "AWSLogs/*.gz" }]);
    expect(keyMatcher({ prefix: "a*b\\", suffix: "*.gz" })).to.deep.equal([{ wildcard: "a\\*b\\\\*\\*.gz" }]);
  });
});

describe("infra names: slugs", () => {
  it("keeps tidy names and makes others unique", () => {
    expect(slug("alb-logs")).to.equal("alb-logs");
    expect(slug("/aws/lambda/app")).to.match(/^aws-lambda-app-[0-9a-f]{6}$/);
    expect(slug("/a/b")).to.not.equal(slug("a-b"));
    expect(slug("/a/b")).to.equal(slug("/a/b"));
  });

  it("fits a logical name to its autonamed field's limit: unchanged when it fits, else cut and ended by a hash of the whole", () => {
    const cases: [string, number, string | RegExp][] = [
      ["short", 100, "short"],
      ["x".repeat(92), 100, "x".repeat(92)],
      ["x".repeat(93), 100, new RegExp(`^${"x".repeat(85)}-[0-9a-f]{6}$`)],
      ["y".repeat(600), 255, new RegExp(`^${"y".repeat(240)}-[0-9a-f]{6}$`)],
    ];
    for (const [name, limit, expected] of cases) {
      const fitted = fitLogicalName(name, limit);
      if (typeof expected === "string") expect(fitted).to.equal(expected);
      else expect(fitted).to.match(expected);
      expect(fitted.length + 8).to.be.at.most(limit);
    }
    expect(fitLogicalName(`${"z".repeat(200)}1`, 100)).to.not.equal(fitLogicalName(`${"z".repeat(200)}2`, 100));
  });
});

describe("infra: S3 notification key filters are URL-encoded as S3 matches them", () => {
  // S3 matches a notification's prefix/suffix against the encoded key: a space is +, other
  // special characters percent-encoded (aws-cdk#28012: "schemaVersion=1/" never fired,
  // "schemaVersion%3D1/" did). The IAM resource and EventBridge patterns keep the raw key.
  const cases: [string, string, string, { filterPrefix?: string; filterSuffix?: string }][] = [
    ["plain", "AWSLogs/", ".gz", { filterPrefix: "AWSLogs/", filterSuffix: ".gz" }],
    ["Hive-compatible VPC flow log prefix", "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/", "", { filterPrefix: "AWSLogs/aws-account-id%3D123456789012/aws-service%3Dvpcflowlogs/" }],
    ["space, plus, colon, comma", "my logs/a+b:c,d/", "", { filterPrefix: "my+logs/a%2Bb%3Ac%2Cd/" }],
    ["unicode", "journaux/été/", "", { filterPrefix: "journaux/%C3%A9t%C3%A9/" }],
    ["none", "", "", {}],
  ];
  for (const [name, prefix, suffix, expected] of cases) {
    it(name, () => {
      expect(keyFilters({ name: "logs", prefix, suffix, delivery: "direct" })).to.deep.equal(expected);
    });
  }

  it("keeps the raw prefix in the IAM resource and the EventBridge pattern (EventBridge keys are not encoded)", () => {
    expect(keyMatcher(bucket("logs", "AWSLogs/aws-account-id=1/"))).to.deep.equal([{ prefix: "AWSLogs/aws-account-id=1/" }]);
  });
});
