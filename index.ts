/**
 * Pulumi program: read the stack config, validate it (with the same validator the function runs
 * at cold start), declare the shipper and its sources, export what operators need.
 */
import * as pulumi from "@pulumi/pulumi";
import { ExtensionLayer, LambdaPromtail, parseStackSettings, projectConfig } from "./infra";

const config = new pulumi.Config();
const settings = parseStackSettings(projectConfig(config.name, pulumi.runtime.allConfig()));
const shipper = new LambdaPromtail("lambda-promtail", { settings, projectDir: __dirname });
// The telemetry extension's layer, when the stack asks for it (extensionLayer).
const layer = settings.extensionLayer ? new ExtensionLayer("lambda-promtail-extension", { settings: settings.extensionLayer, projectDir: __dirname }) : undefined;

// Stack outputs; the optional ones only when the stack has them.
export = {
  functionName: shipper.functionName,
  functionArn: shipper.functionArn,
  roleArn: shipper.roleArn,
  logGroupName: shipper.logGroupName,
  ...(shipper.imageUri ? { imageUri: shipper.imageUri } : {}),
  ...(shipper.queueUrl ? { queueUrl: shipper.queueUrl } : {}),
  ...(shipper.deadLetterQueueUrl ? { deadLetterQueueUrl: shipper.deadLetterQueueUrl } : {}),
  ruleArns: shipper.ruleArns,
  ...(layer ? { extensionLayerArns: layer.arns } : {}),
};
