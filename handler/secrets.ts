/**
 * Resolves credentials given as Secrets Manager or SSM Parameter ARNs, once per cold start.
 * The Powertools parameter utilities (and the AWS SDK clients behind them) are imported only
 * when an ARN is configured, so functions with plain credentials never pay for them.
 *
 * Each read is bounded (aws-http.ts): connection and first byte per attempt through the SDK
 * client's request handler, the whole read by a share of the invocation's time left. An endpoint
 * that never answers fails the cold start with an error naming the setting, before the deadline.
 */
import { boundedRequestHandler, sendWithin, SendOptions } from "./aws-http";
import type { Credential } from "./config";
import { isSendableInHeader, UNSENDABLE_BEARER_TOKEN } from "./types";
import type { InvocationDeadline } from "./deadline";

export type SecretFetcher = (credential: Exclude<Credential, { kind: "value" }>, options: SendOptions) => Promise<string>;

/** The whole read of one credential, retries included, at most (and at most a share of the time left). */
export const SECRET_READ_CAP_MS = 5000;

/**
 * Reads a secret through Powertools: SecretString for Secrets Manager, decrypted value for SSM.
 * Powertools takes no AbortSignal, so the SDK client it uses is built with the per-attempt bounds
 * and `resolveCredential` stops waiting at the call's bound.
 */
export const fetchWithPowertools: SecretFetcher = async (credential, options) => {
  const clientConfig = { requestHandler: boundedRequestHandler(options.requestTimeout), maxAttempts: 2 };
  if (credential.kind === "secretsmanager") {
    const { SecretsProvider } = await import("@aws-lambda-powertools/parameters/secrets");
    const value = await new SecretsProvider({ clientConfig }).get(credential.arn);
    if (typeof value !== "string" || value === "") throw new Error(`secret ${credential.arn} has no SecretString`);
    return value;
  }
  const { SSMProvider } = await import("@aws-lambda-powertools/parameters/ssm");
  // GetParameter accepts a parameter ARN as its name.
  const value = await new SSMProvider({ clientConfig }).get(credential.arn, { decrypt: true });
  if (typeof value !== "string" || value === "") throw new Error(`parameter ${credential.arn} is empty`);
  return value;
};

/** Returns the plain value of a credential, fetching it when it is an ARN. Errors name the setting and the ARN. */
export async function resolveCredential(
  setting: string,
  credential: Credential | undefined,
  deadline: InvocationDeadline,
  fetch: SecretFetcher = fetchWithPowertools,
): Promise<string | undefined> {
  if (!credential) return undefined;
  if (credential.kind === "value") return credential.value;
  const limit = deadline.limit(credential.kind === "ssm" ? "SSM GetParameter" : "Secrets Manager GetSecretValue");
  let value: string;
  try {
    value = await sendWithin(limit, deadline.waitMs(SECRET_READ_CAP_MS), (options) => fetch(credential, options));
  } catch (err) {
    throw new Error(`${setting}: could not read ${credential.arn}: ${(err as Error).message}`, { cause: err });
  } finally {
    limit.clear();
  }
  // The bearer token is sent as it is (USERNAME and PASSWORD are base64-encoded): BEARER_TOKEN, LOKI_BEARER_TOKEN.
  if (setting.endsWith("BEARER_TOKEN") && !isSendableInHeader(value)) throw new Error(`${setting}: the value of ${credential.arn} ${UNSENDABLE_BEARER_TOKEN}`);
  return value;
}
