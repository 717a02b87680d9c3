/**
 * Attaching the telemetry extension to a function declared in your own Pulumi program:
 *
 *   const loki = new LokiExtension("orders-loki", { layerArn, role: role.name, settings: {...}, logGroupName: logGroup.name });
 *   new aws.lambda.Function("orders", { ..., layers: loki.layers, environment: { variables: { ...mine, ...loki.environment } } },
 *     { dependsOn: loki.dependencies });
 *
 * With `alarms: { functionName: "orders", topicArn }` it also declares the CloudWatch alarms on the
 * metrics the extension publishes for that function (infra/alarmPlanExtension.ts).
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
import { planExtensionAlarms, extensionAlarmThresholds, type ExtensionAlarmThresholds } from "./alarmPlanExtension";
import { alarmActions, declareAlarms } from "./alarms";
import { parseTopicArn } from "./alarmTopic";
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
  /** CloudWatch alarms on the extension's metrics for the function (README: Alarms of the extension). */
  alarms?: LokiExtensionAlarms;
  /** Tags of the alarms. */
  tags?: Record<string, string>;
}

export interface LokiExtensionAlarms {
  /** The name of the function carrying the extension: the `service` dimension of its metrics. */
  functionName: pulumi.Input<string>;
  /** The SNS topic every alarm notifies when it goes to ALARM and back to OK; none: alarms notify no one. */
  topicArn?: string;
  /** Over the defaults; each a whole number from 1. */
  thresholds?: Partial<ExtensionAlarmThresholds>;
}

/** The alarms' settings checked (ConfigError names the setting): the namespace they watch, the thresholds, the topic. */
export function validateExtensionAlarms(settings: Readonly<Record<string, string>>, alarms: LokiExtensionAlarms): { namespace: string; thresholds: ExtensionAlarmThresholds; topicArn?: string } {
  const shipper = parseExtensionConfig(settings).shipper;
  if (!shipper.metrics) {
    throw new ConfigError(`${PREFIX}METRICS`, "is false: the function publishes none of the metrics its alarms would watch", "LOKI_METRICS left on (the default) when LokiExtension has alarms, or no alarms");
  }
  const thresholds = extensionAlarmThresholds(alarms.thresholds as Record<string, unknown> | undefined);
  const topic = alarms.topicArn === undefined || alarms.topicArn === "" ? undefined : parseTopicArn("alarms.topicArn", alarms.topicArn);
  return { namespace: shipper.metricsNamespace, thresholds, ...(topic ? { topicArn: topic.arn } : {}) };
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
  /** The CloudWatch alarms by id (entries-lost, …), when `alarms` is given. */
  readonly alarms: Record<string, aws.cloudwatch.MetricAlarm> = {};

  constructor(name: string, args: LokiExtensionArgs, opts?: pulumi.ComponentResourceOptions) {
    // Before registering anything: a bad setting fails preview with the extension's own message.
    const { secretArns, parameterArns } = validateExtensionSettings(args.settings);
    const alarms = args.alarms ? validateExtensionAlarms(args.settings, args.alarms) : undefined;
    super(LOKI_EXTENSION_TYPE, name, {}, opts);
    const actions = alarms?.topicArn ? alarmActions("alarms.topicArn", alarms.topicArn, this) : undefined;
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
    if (alarms && args.alarms) {
      const functionName = args.alarms.functionName;
      const targets = {
        functionName,
        // Where the extension's own lines go: the function's log group.
        logGroupName: args.logGroupName ?? args.settings[LOG_GROUP_SETTING] ?? pulumi.output(functionName).apply((fn) => `/aws/lambda/${fn}`),
      };
      const ctx = { name, parent: this, tags: args.tags ?? {} };
      this.alarms = declareAlarms(ctx, planExtensionAlarms(alarms.namespace, alarms.thresholds, targets), targets, actions);
    }
    this.registerOutputs({ layers: this.layers, environment: this.environment });
  }
}
