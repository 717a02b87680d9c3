/**
 * PASSWORD or BEARER_TOKEN given as the secret itself: it is readable by anyone allowed to read
 * the function's configuration. The shipper accepts a Secrets Manager or SSM ARN instead and
 * resolves it at cold start; the lambda-promtail program stores plaintext credentials in
 * Secrets Manager for you.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { EVERY_KIND, knownSetting, SHIPPER_FUNCTION, variable } from "../lib/environment";
import { functionRef, setting } from "../lib/messages";
import { validateShipperFunction } from "../lib/validation";

/** The credentials that are secrets; USERNAME (often an instance id) is not one. */
const SECRET_SETTINGS = ["PASSWORD", "BEARER_TOKEN"] as const;

export const plaintextCredentials: ResourceValidationPolicy = {
  name: "plaintext-credentials",
  description: "PASSWORD and BEARER_TOKEN should be the ARN of a Secrets Manager secret or SSM parameter, not the secret itself.",
  enforcementLevel: "advisory",
  severity: "medium",
  validateResource: validateShipperFunction(EVERY_KIND, (fn, _args, report) => {
    const kind = fn.env.kind;
    for (const name of SECRET_SETTINGS) {
      // An unknown value is computed by the stack at preview: in practice the ARN of a secret it creates.
      if (fn.env.unknown.has(variable(kind, name))) continue;
      const value = knownSetting(fn.env, name).trim();
      if (value === "" || value.startsWith("arn:")) continue;
      report(
        `${setting(name, kind)} on ${functionRef(fn.name, kind)} is a plaintext value: anyone allowed to read the function's configuration (lambda:GetFunctionConfiguration, the console) can read it. ` +
          `Fix: store it in Secrets Manager or SSM Parameter Store and set ${variable(kind, name)} to its ARN (the role needs secretsmanager:GetSecretValue or ssm:GetParameter); ` +
          (kind === SHIPPER_FUNCTION
            ? `the lambda-promtail program does this for you: \`pulumi config set --secret ${name === "PASSWORD" ? "password" : "bearerToken"} …\`.`
            : "LokiExtension accepts only such ARNs and grants the role read access to exactly them."),
      );
    }
  }),
};
