/**
 * IAM and resource policy documents as pure functions of plain ARNs, so tests can assert on
 * actions and resources without the engine. Every statement names its resources exactly; the
 * only "*" is in the VPC statement, where EC2's network-interface actions require it.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow";
  Principal?: { Service: string };
  Action: string[];
  /** Absent only in a trust policy, which must not have one. */
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement: statements });

// ----------------------------------------------------------------------------------- ARNs

export const bucketArn = (partition: string, bucket: string): string => `arn:${partition}:s3:::${bucket}`;

/**
 * The objects a bucket's notification can announce: under its prefix filter, if any. In a
 * resource ARN IAM reads `*` and `?` of the prefix (S3 keys may hold both) as wildcards, which
 * would grant other keys too; its policy variables `${*}`, `${?}` and `${$}` stand for the
 * characters themselves.
 */
export const bucketObjectsArn = (partition: string, bucket: string, prefix: string): string =>
  `arn:${partition}:s3:::${bucket}/${literalInIamResource(prefix)}*`;

function literalInIamResource(text: string): string {
  return text.replace(/[*?$]/g, (char) => `\${${char}}`);
}

export const logGroupArn = (partition: string, region: string, account: string, name: string): string =>
  `arn:${partition}:logs:${region}:${account}:log-group:${name}`;

export const streamArn = (partition: string, region: string, account: string, name: string): string =>
  `arn:${partition}:kinesis:${region}:${account}:stream/${name}`;

// ----------------------------------------------------------------------------------- the role

export function lambdaAssumeRolePolicy(): PolicyDocument {
  return doc({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: ["sts:AssumeRole"] });
}

/** Writing to the function's own log group (its streams), nothing else. */
export function logsWritePolicy(ownLogGroupArn: string): PolicyDocument {
  return doc({ Sid: "OwnLogGroup", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${ownLogGroupArn}:*` });
}

/** GetObject, and GetObjectVersion: in a versioned bucket the handler reads the version the event announced. */
export function s3ReadPolicy(objectArns: string[]): PolicyDocument {
  return doc({ Sid: "ReadLogObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: objectArns });
}

/** What a Kinesis event source mapping needs from the stream (standard iterators, no enhanced fan-out). */
export const KINESIS_READ_ACTIONS = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetRecords",
  "kinesis:GetShardIterator",
  "kinesis:ListShards",
];

export function kinesisReadPolicy(streamArns: string[]): PolicyDocument {
  return doc({ Sid: "ReadStreams", Effect: "Allow", Action: KINESIS_READ_ACTIONS, Resource: streamArns });
}

/** What an SQS event source mapping needs from its queue. */
export function sqsConsumePolicy(queueArn: string): PolicyDocument {
  return doc({ Sid: "ConsumeS3EventQueue", Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: queueArn });
}

/** On-failure destinations (async invocations, Kinesis mappings) send with the function's role. */
export function deadLetterSendPolicy(deadLetterQueueArn: string): PolicyDocument {
  return doc({ Sid: "SendToDeadLetterQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: deadLetterQueueArn });
}

/** A source's KMS key, and the service that decrypts with it on the function's behalf. */
export interface SourceKey {
  keyArn: string;
  service: "s3" | "kinesis";
}

/**
 * Decrypting the objects of SSE-KMS buckets and the records of encrypted streams: kms:Decrypt on
 * exactly their keys, and only through the service that stores the data (kms:ViaService, in the
 * key's region, which is the bucket's or the stream's), never directly.
 */
export function sourceDecryptPolicy(keys: SourceKey[]): PolicyDocument {
  const statements: PolicyStatement[] = [];
  for (const [service, sid] of [["s3", "DecryptLogObjects"], ["kinesis", "DecryptStreamRecords"]] as const) {
    const byEndpoint = new Map<string, string[]>();
    for (const { keyArn, service: s } of keys) {
      if (s !== service) continue;
      const [, partition, , region] = keyArn.split(":");
      const endpoint = `${service}.${region}.${partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"}`;
      const arns = byEndpoint.get(endpoint) ?? [];
      if (!arns.includes(keyArn)) arns.push(keyArn);
      byEndpoint.set(endpoint, arns);
    }
    const endpoints = [...byEndpoint.keys()].sort();
    for (const [n, endpoint] of endpoints.entries()) {
      statements.push({ Sid: endpoints.length === 1 ? sid : `${sid}${n + 1}`, Effect: "Allow", Action: ["kms:Decrypt"], Resource: byEndpoint.get(endpoint)!, Condition: { StringEquals: { "kms:ViaService": endpoint } } });
    }
  }
  return doc(...statements);
}

export function kmsDecryptPolicy(keyArn: string): PolicyDocument {
  return doc({ Sid: "DecryptWithConfiguredKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: keyArn });
}

/**
 * The resource that grants a secret given by ARN. Secrets Manager ends a secret's ARN with "-" and
 * six random characters; GetSecretValue also takes the ARN without them (a partial ARN, as
 * `secret:loki-token`), but IAM matches the grant against the complete ARN, which a partial one
 * never equals: it needs `secret:loki-token-??????`, AWS's pattern for exactly that secret.
 */
export function secretResource(secretArn: string): string {
  return /-[A-Za-z0-9]{6}$/.test(secretArn) ? secretArn : `${secretArn}-??????`;
}

/** Reading exactly the credentials' Secrets Manager secrets and SSM parameters. */
export function credentialsReadPolicy(secretArns: string[], parameterArns: string[]): PolicyDocument {
  const statements: PolicyStatement[] = [];
  if (secretArns.length > 0) statements.push({ Sid: "ReadCredentialSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: secretArns.map(secretResource) });
  if (parameterArns.length > 0) statements.push({ Sid: "ReadCredentialParameters", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: parameterArns });
  return doc(...statements);
}

/** The network-interface actions Lambda needs to run in a VPC; EC2 does not scope them by resource. */
export const VPC_ACCESS_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

export function vpcAccessPolicy(): PolicyDocument {
  return doc({ Sid: "VpcNetworkInterfaces", Effect: "Allow", Action: VPC_ACCESS_ACTIONS, Resource: "*" });
}

/** Tag enrichment (TAG_LABELS) reads the tags of the subscribed log groups. */
export function logGroupTagsPolicy(logGroupArns: string[]): PolicyDocument {
  return doc({ Sid: "ReadLogGroupTags", Effect: "Allow", Action: ["logs:ListTagsForResource"], Resource: logGroupArns });
}

// ----------------------------------------------------------------------------------- queue policies

/** Only the configured buckets, in this account, may send object-created events to the queue. */
export function s3ToQueuePolicy(queueArn: string, bucketArns: string[], account: string): PolicyDocument {
  return doc({
    Sid: "ConfiguredBucketsSend",
    Effect: "Allow",
    Principal: { Service: "s3.amazonaws.com" },
    Action: ["sqs:SendMessage"],
    Resource: queueArn,
    Condition: { ArnLike: { "aws:SourceArn": bucketArns }, StringEquals: { "aws:SourceAccount": account } },
  });
}

/** Only the given EventBridge rules may dead-letter events they could not deliver. */
export function eventsToQueuePolicy(queueArn: string, ruleArns: string[]): PolicyDocument {
  return doc({
    Sid: "RulesDeadLetter",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: ["sqs:SendMessage"],
    Resource: queueArn,
    Condition: { ArnEquals: { "aws:SourceArn": ruleArns } },
  });
}
