/**
 * The labels every entry of the telemetry extension starts with: the CloudWatch path's labels
 * for the function's log group, plus the function's name and version. Pure, with no dependency
 * on the extension's I/O, so the policy pack evaluates the same labels (policy/analysis).
 */
import type { Labels } from "../handler/types";
import type { ExtensionConfig } from "./config";
import type { Registration } from "./lambda-api";

/** The function's name, as Lambda gave it at registration (or in the environment). */
export function functionNameOf(registration: Pick<Registration, "functionName">, env: Readonly<Record<string, string | undefined>>): string {
  return registration.functionName ?? env.AWS_LAMBDA_FUNCTION_NAME ?? "";
}

/** The base labels of every entry: the CloudWatch path's labels for the function's log group. */
export function baseLabels(config: Pick<ExtensionConfig, "logGroupName">, registration: Omit<Registration, "extensionId">, env: Readonly<Record<string, string | undefined>>): Labels {
  const functionName = functionNameOf(registration, env);
  const labels: Labels = {
    __aws_log_type: "telemetry",
    __aws_cloudwatch_log_group: config.logGroupName ?? `/aws/lambda/${functionName}`,
    __aws_lambda_function_name: functionName,
    __aws_lambda_function_version: registration.functionVersion ?? env.AWS_LAMBDA_FUNCTION_VERSION ?? "",
  };
  if (registration.accountId) labels.__aws_cloudwatch_owner = registration.accountId;
  return labels;
}
