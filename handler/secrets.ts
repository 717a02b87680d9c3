/**
 * Resolves credentials given as Secrets Manager or SSM Parameter ARNs, once per cold start.
 * The Powertools parameter utilities (and the AWS SDK clients behind them) are imported only
 * when an ARN is configured, so functions with plain credentials never pay for them.
 */
import type { Credential } from "./config";

export type SecretFetcher = (credential: Exclude<Credential, { kind: "value" }>) => Promise<string>;

/** Reads a secret through Powertools: SecretString for Secrets Manager, decrypted value for SSM. */
export const fetchWithPowertools: SecretFetcher = async (credential) => {
  if (credential.kind === "secretsmanager") {
    const { getSecret } = await import("@aws-lambda-powertools/parameters/secrets");
    const value = await getSecret<string>(credential.arn);
    if (typeof value !== "string" || value === "") throw new Error(`secret ${credential.arn} has no SecretString`);
    return value;
  }
  const { getParameter } = await import("@aws-lambda-powertools/parameters/ssm");
  // GetParameter accepts a parameter ARN as its name.
  const value = await getParameter(credential.arn, { decrypt: true });
  if (typeof value !== "string" || value === "") throw new Error(`parameter ${credential.arn} is empty`);
  return value;
};

/** Returns the plain value of a credential, fetching it when it is an ARN. Errors name the ARN. */
export async function resolveCredential(
  setting: string,
  credential: Credential | undefined,
  fetch: SecretFetcher = fetchWithPowertools,
): Promise<string | undefined> {
  if (!credential) return undefined;
  if (credential.kind === "value") return credential.value;
  try {
    return await fetch(credential);
  } catch (err) {
    throw new Error(`${setting}: could not read ${credential.arn}: ${(err as Error).message}`, { cause: err });
  }
}
