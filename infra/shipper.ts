/**
 * The shipper itself: credentials' secrets, the role and its least-privilege policies, the
 * function's log group, the code (built image, given image or zip bundle) and the function.
 */
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { lambdaSnappyBinding } from "../handler/loki/snappy";
import { DeployContext, json, tagsOf } from "./context";
import {
  credentialsReadPolicy,
  deadLetterSendPolicy,
  kinesisReadPolicy,
  kmsDecryptPolicy,
  lambdaAssumeRolePolicy,
  logGroupTagsPolicy,
  logsWritePolicy,
  PolicyDocument,
  s3ReadPolicy,
  SourceKey,
  sourceDecryptPolicy,
  sqsConsumePolicy,
  vpcAccessPolicy,
} from "./policies";
import { Architecture, CodeSource, CredentialSetting, ShipperStackSettings } from "./settings";

/** Node.js 20 reached end of life in April 2026 and Lambda deprecates its runtime; the bundle targets Node 20+. */
export const RUNTIME = "nodejs22.x";
export const ZIP_HANDLER = "index.handler";
export const DOCKERFILE = "handler/Dockerfile";

/** The code as the function will get it, checked before any resource is declared. */
export type ResolvedCode =
  | { kind: "build"; context: string; dockerfile: string }
  | { kind: "image"; imageUri: string }
  | { kind: "zip"; bundle: string; snappyBinding?: { archivePath: string; dir: string } };

/**
 * Resolves paths against the project directory and fails early and clearly when the zip bundle
 * has not been built, instead of letting the upload fail halfway through `pulumi up`. A zip
 * also carries the native snappy binding staged next to the bundle when it matches the
 * function's CPU; without it the function compresses with snappyjs, which preview says.
 */
export function resolveCode(code: CodeSource, projectDir: string, architecture: Architecture, warn: (message: string) => void): ResolvedCode {
  switch (code.kind) {
    case "image":
      return code;
    case "zip": {
      const bundle = path.resolve(projectDir, code.bundlePath);
      if (!fs.existsSync(bundle)) {
        throw new Error(`packageType zip: the handler bundle ${bundle} does not exist. Run \`npm run build\` first, or set bundlePath to the bundle.`);
      }
      const archivePath = `node_modules/${lambdaSnappyBinding(architecture)}`;
      const dir = path.join(path.dirname(bundle), archivePath);
      if (fs.existsSync(dir)) return { kind: "zip", bundle, snappyBinding: { archivePath, dir } };
      warn(`packageType zip: ${dir} does not exist, so the function will compress with snappyjs, several times slower. ` +
        `Build with \`LAMBDA_ARCHITECTURE=${architecture} npm run build\` to stage the native snappy binding for ${architecture}.`);
      return { kind: "zip", bundle };
    }
    case "build":
      return { kind: "build", context: projectDir, dockerfile: path.join(projectDir, DOCKERFILE) };
  }
}

/** What the role must be allowed to read or write, from the sources the component declares. */
export interface ShipperGrants {
  /** s3:GetObject and s3:GetObjectVersion, one ARN per bucket (and prefix). */
  bucketObjectArns: pulumi.Input<string>[];
  kinesisStreamArns: pulumi.Input<string>[];
  /** The S3 event queue the SQS mapping consumes. */
  consumeQueueArn?: pulumi.Input<string>;
  /** The dead-letter queue on-failure destinations send to. */
  deadLetterQueueArn?: pulumi.Input<string>;
  /** Log groups whose tags TAG_LABELS reads. */
  tagLogGroupArns: pulumi.Input<string>[];
  /** KMS keys of SSE-KMS buckets and encrypted streams. */
  sourceKeys: SourceKey[];
}

export interface Shipper {
  role: aws.iam.Role;
  /** Inline policies by name. */
  policies: Record<string, aws.iam.RolePolicy>;
  logGroup: aws.cloudwatch.LogGroup;
  function: aws.lambda.Function;
  /** Secrets created for plaintext credentials, by environment variable. */
  secrets: Partial<Record<CredentialSetting, aws.secretsmanager.Secret>>;
  repository?: awsx.ecr.Repository;
  image?: awsx.ecr.Image;
  /** The image the function runs; absent for a zip package. */
  imageUri?: pulumi.Output<string>;
}

const kebab = (env: string): string => env.toLowerCase().replace(/_/g, "-");

export function declareShipper(ctx: DeployContext, settings: ShipperStackSettings, code: ResolvedCode, grants: ShipperGrants): Shipper {
  const opts = { parent: ctx.parent };
  const { name } = ctx;

  // Credentials: plaintext goes to Secrets Manager; the function gets ARNs only.
  const env: Record<string, pulumi.Input<string>> = { ...settings.env };
  const secrets: Shipper["secrets"] = {};
  const secretVersions: aws.secretsmanager.SecretVersion[] = [];
  const secretArns: pulumi.Input<string>[] = [];
  const parameterArns: string[] = [];
  for (const [setting, credential] of Object.entries(settings.credentials) as [CredentialSetting, NonNullable<ShipperStackSettings["credentials"][CredentialSetting]>][]) {
    if (credential.kind === "value") {
      const secret = new aws.secretsmanager.Secret(
        `${name}-${kebab(setting)}`,
        { description: `${setting} of the lambda-promtail shipper ${name}`, ...(settings.kmsKeyArn ? { kmsKeyId: settings.kmsKeyArn } : {}), ...tagsOf(ctx) },
        opts,
      );
      secretVersions.push(new aws.secretsmanager.SecretVersion(`${name}-${kebab(setting)}`, { secretId: secret.id, secretString: pulumi.secret(credential.value) }, opts));
      secrets[setting] = secret;
      env[setting] = secret.arn;
      secretArns.push(secret.arn);
    } else {
      env[setting] = credential.arn;
      if (credential.kind === "secretsmanager") secretArns.push(credential.arn);
      else parameterArns.push(credential.arn);
    }
  }

  const role = new aws.iam.Role(`${name}-role`, { description: `Runs the lambda-promtail shipper ${name}`, assumeRolePolicy: json(lambdaAssumeRolePolicy()), ...tagsOf(ctx) }, opts);

  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-log-group`,
    {
      ...(settings.functionName ? { name: `/aws/lambda/${settings.functionName}` } : { namePrefix: `/aws/lambda/${name}-` }),
      retentionInDays: settings.logRetentionDays,
      ...tagsOf(ctx),
    },
    opts,
  );

  // One inline policy per concern, declared only when the concern exists.
  const policies: Record<string, aws.iam.RolePolicy> = {};
  const policy = (policyName: string, document: pulumi.Input<PolicyDocument>): void => {
    policies[policyName] = new aws.iam.RolePolicy(
      `${name}-${policyName}`,
      { role: role.name, name: policyName, policy: pulumi.output(document).apply(json) },
      opts,
    );
  };
  policy("logs", logGroup.arn.apply(logsWritePolicy));
  if (grants.bucketObjectArns.length > 0) policy("s3-read", pulumi.all(grants.bucketObjectArns).apply(s3ReadPolicy));
  if (grants.kinesisStreamArns.length > 0) policy("kinesis-read", pulumi.all(grants.kinesisStreamArns).apply(kinesisReadPolicy));
  if (grants.consumeQueueArn) policy("sqs-consume", pulumi.output(grants.consumeQueueArn).apply(sqsConsumePolicy));
  if (grants.deadLetterQueueArn) policy("dead-letter", pulumi.output(grants.deadLetterQueueArn).apply(deadLetterSendPolicy));
  if (settings.kmsKeyArn) policy("kms", kmsDecryptPolicy(settings.kmsKeyArn));
  if (grants.sourceKeys.length > 0) policy("source-kms", sourceDecryptPolicy(grants.sourceKeys));
  if (secretArns.length > 0 || parameterArns.length > 0) policy("credentials", pulumi.all(secretArns).apply((arns) => credentialsReadPolicy(arns, parameterArns)));
  if (settings.vpc) policy("vpc-access", vpcAccessPolicy());
  if (grants.tagLogGroupArns.length > 0) policy("log-group-tags", pulumi.all(grants.tagLogGroupArns).apply(logGroupTagsPolicy));

  let repository: awsx.ecr.Repository | undefined;
  let image: awsx.ecr.Image | undefined;
  let packageArgs: Partial<aws.lambda.FunctionArgs>;
  let imageUri: pulumi.Output<string> | undefined;
  switch (code.kind) {
    case "build":
      repository = new awsx.ecr.Repository(`${name}-repository`, { forceDelete: true, ...tagsOf(ctx) }, opts);
      image = new awsx.ecr.Image(
        `${name}-image`,
        {
          repositoryUrl: repository.url,
          context: code.context,
          dockerfile: code.dockerfile,
          platform: settings.architecture === "arm64" ? "linux/arm64" : "linux/amd64",
        },
        opts,
      );
      packageArgs = { packageType: "Image", imageUri: image.imageUri };
      imageUri = image.imageUri;
      break;
    case "image":
      packageArgs = { packageType: "Image", imageUri: code.imageUri };
      imageUri = pulumi.output(code.imageUri);
      break;
    case "zip":
      packageArgs = {
        packageType: "Zip",
        runtime: RUNTIME,
        handler: ZIP_HANDLER,
        code: new pulumi.asset.AssetArchive({
          "index.js": new pulumi.asset.FileAsset(code.bundle),
          ...(code.snappyBinding ? { [code.snappyBinding.archivePath]: new pulumi.asset.FileArchive(code.snappyBinding.dir) } : {}),
        }),
      };
      break;
  }

  const fn = new aws.lambda.Function(
    `${name}-function`,
    {
      ...(settings.functionName ? { name: settings.functionName } : {}),
      description: "Ships AWS logs to Grafana Loki (lambda-promtail for Pulumi)",
      role: role.arn,
      ...packageArgs,
      architectures: [settings.architecture],
      memorySize: settings.memorySize,
      timeout: settings.timeout,
      ...(settings.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: settings.reservedConcurrency } : {}),
      ...(settings.kmsKeyArn ? { kmsKeyArn: settings.kmsKeyArn } : {}),
      environment: { variables: env },
      ...(settings.vpc ? { vpcConfig: { subnetIds: settings.vpc.subnetIds, securityGroupIds: settings.vpc.securityGroupIds } } : {}),
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      ...tagsOf(ctx),
    },
    // The log group first (or Lambda creates an unmanaged one), the grants before the first
    // invocation, and the secrets' values before the first cold start reads them.
    { ...opts, dependsOn: [logGroup, ...Object.values(policies), ...secretVersions] },
  );

  return { role, policies, logGroup, function: fn, secrets, repository, image, imageUri };
}
