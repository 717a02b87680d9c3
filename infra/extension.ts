/**
 * Attaching the telemetry extension to a function declared in your own Pulumi program:
 *
 *   const loki = new LokiExtension("orders-loki", { layerArn, role: role.name, settings: {...}, logGroupName: logGroup.name });
 *   new aws.lambda.Function("orders", { ..., layers: loki.layers, environment: { variables: { ...mine, ...loki.environment } } },
 *     { dependsOn: loki.dependencies });
 *
 * The settings are validated at construction, hence at `pulumi preview`, by the extension's own
 * parser (extension/config.ts, the shipper's validator with the LOKI_ prefix), so preview fails
 * with exactly the message the extension would give at init. Credentials must be ARNs of Secrets
 * Manager secrets or SSM parameters: a plaintext value would sit in the function's environment,
 * readable by anyone allowed lambda:GetFunctionConfiguration, so it is refused. The role gets
 * secretsmanager:GetSecretValue / ssm:GetParameter on exactly those ARNs (and kms:Decrypt on the
 * key that encrypts them, when given).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, Credential, SETTINGS } from "../handler/config";
import { parseExtensionConfig, PREFIX, unknownPrefixedVariables } from "../extension/config";
import { json } from "./context";
import { credentialsReadPolicy, kmsDecryptPolicy, PolicyDocument } from "./policies";

export const LOKI_EXTENSION_TYPE = "lambda-promtail:index:LokiExtension";
const LOG_GROUP_SETTING = "LOKI_LOG_GROUP_NAME";
const CREDENTIAL_FORM = "the ARN of a Secrets Manager secret (arn:aws:secretsmanager:…) or SSM parameter (arn:aws:ssm:…:parameter/…) holding it";

export interface LokiExtensionArgs {
  /** The layer version ARN (the stack's extensionLayerArns, for the function's architecture). */
  layerArn: pulumi.Input<string>;
  /** Name of the function's role; the credentials' read permission is attached to it. */
  role: pulumi.Input<string>;
  /** The extension's settings by environment variable (LOKI_WRITE_ADDRESS, …); credentials as secret or parameter ARNs. */
  settings: Readonly<Record<string, string>>;
  /**
   * The function's custom log group (its loggingConfig.logGroup), when it has one: becomes
   * LOKI_LOG_GROUP_NAME, since Lambda does not tell extensions the log group name.
   */
  logGroupName?: pulumi.Input<string>;
  /** The KMS key encrypting the credentials' secrets or parameters, when not the AWS-managed one. */
  kmsKeyArn?: pulumi.Input<string>;
}

/** The settings checked as the extension checks them at init; returns the credentials' ARNs. Throws ConfigError. */
export function validateExtensionSettings(settings: Readonly<Record<string, string>>): { secretArns: string[]; parameterArns: string[] } {
  for (const name of Object.keys(settings)) {
    if (!name.startsWith(PREFIX)) throw new ConfigError(name, "is not a setting of the telemetry extension", `a variable named ${PREFIX}<SETTING>, from the extension's settings table`);
  }
  const unknown = unknownPrefixedVariables(settings);
  if (unknown.length > 0) throw new ConfigError(unknown[0], "is not a setting of the telemetry extension", "one of the LOKI_* variables in the extension's settings table");
  const config = parseExtensionConfig(settings);
  const secretArns: string[] = [];
  const parameterArns: string[] = [];
  for (const spec of SETTINGS.filter((s) => s.secret)) {
    const credential = (config.shipper as unknown as Record<string, Credential | undefined>)[spec.stackKey];
    if (!credential) continue;
    if (credential.kind === "value") throw new ConfigError(PREFIX + spec.env, "is a plaintext credential, which would be readable in the function's configuration", CREDENTIAL_FORM);
    (credential.kind === "secretsmanager" ? secretArns : parameterArns).push(credential.arn);
  }
  return { secretArns, parameterArns };
}

/** The role policy document: read exactly the credentials, and decrypt with their key. */
export function extensionCredentialsPolicy(secretArns: string[], parameterArns: string[], kmsKeyArn?: string): PolicyDocument {
  const read = credentialsReadPolicy(secretArns, parameterArns);
  return kmsKeyArn ? { ...read, Statement: [...read.Statement, ...kmsDecryptPolicy(kmsKeyArn).Statement] } : read;
}

export class LokiExtension extends pulumi.ComponentResource {
  /** For the function's `layers`. */
  readonly layers: pulumi.Input<string>[];
  /** For the function's `environment.variables` (merge with its own). */
  readonly environment: Record<string, pulumi.Input<string>>;
  /** The read permission on the credentials, absent when there are none. */
  readonly policy?: aws.iam.RolePolicy;
  /** What the function should depend on, so its first cold start may already read the credentials. */
  readonly dependencies: pulumi.Resource[];

  constructor(name: string, args: LokiExtensionArgs, opts?: pulumi.ComponentResourceOptions) {
    // Before registering anything: a bad setting fails preview with the extension's own message.
    const { secretArns, parameterArns } = validateExtensionSettings(args.settings);
    super(LOKI_EXTENSION_TYPE, name, {}, opts);
    this.layers = [args.layerArn];
    this.environment = { ...args.settings };
    if (args.logGroupName !== undefined && args.settings[LOG_GROUP_SETTING] === undefined) this.environment[LOG_GROUP_SETTING] = args.logGroupName;
    if (secretArns.length > 0 || parameterArns.length > 0) {
      this.policy = new aws.iam.RolePolicy(
        `${name}-credentials`,
        {
          role: args.role,
          name: `${name}-loki-credentials`,
          policy: pulumi.output(args.kmsKeyArn).apply((key) => json(extensionCredentialsPolicy(secretArns, parameterArns, key))),
        },
        { parent: this },
      );
    }
    this.dependencies = this.policy ? [this.policy] : [];
    this.registerOutputs({ layers: this.layers, environment: this.environment });
  }
}
