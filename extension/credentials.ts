/**
 * The Loki credentials of the extension, resolved by the shipper's handler/secrets.ts.
 *
 * That module brings the AWS SDK clients (Secrets Manager, SSM) with it, whose code alone added
 * about 250 ms to every init when bundled into the extension, used or not. The layer for Node.js
 * functions therefore ships it as a separate file (lambda-promtail/secrets.js, named by the build
 * through LAMBDA_PROMTAIL_SECRETS_FILE), loaded only when a credential is an ARN. Run from source
 * or inside the single executable, it is an ordinary import.
 */
import { join } from "node:path";
import type { ShipperConfig } from "../handler/config";
import { InvocationDeadline } from "../handler/deadline";
import type { LokiAuth } from "../handler/loki/client";
import type { SecretFetcher } from "../handler/secrets";

declare const LAMBDA_PROMTAIL_SECRETS_FILE: string | undefined;

type SecretsModule = typeof import("../handler/secrets");

/** Lambda's init phase, in which the extension reads its credentials, lasts at most 10 s. */
const INIT_PHASE_MS = 10_000;

function secretsModule(): SecretsModule {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return typeof LAMBDA_PROMTAIL_SECRETS_FILE !== "undefined"
    ? (require(join(__dirname, LAMBDA_PROMTAIL_SECRETS_FILE)) as SecretsModule)
    : (require("../handler/secrets") as SecretsModule);
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Basic auth or bearer token from LOKI_USERNAME/LOKI_PASSWORD/LOKI_BEARER_TOKEN (values or ARNs). */
export async function lokiAuth(config: ShipperConfig, fetchSecret?: SecretFetcher): Promise<LokiAuth | undefined> {
  const credentials = [config.username, config.password, config.bearerToken];
  if (credentials.every((c) => c === undefined)) return undefined;
  const plain = fetchSecret === undefined && credentials.every((c) => c === undefined || c.kind === "value");
  // Plain values need no module at all; an ARN loads the reader (and the SDK) once.
  const resolve: SecretsModule["resolveCredential"] = plain
    ? async (_setting, credential) => (credential?.kind === "value" ? credential.value : undefined)
    : secretsModule().resolveCredential;
  const deadline = InvocationDeadline.in(INIT_PHASE_MS);
  const [username, password, bearerToken] = await Promise.all([
    resolve("LOKI_USERNAME", config.username, deadline, fetchSecret),
    resolve("LOKI_PASSWORD", config.password, deadline, fetchSecret),
    resolve("LOKI_BEARER_TOKEN", config.bearerToken, deadline, fetchSecret),
  ]).finally(() => deadline.dispose());
  if (username !== undefined && password !== undefined) return { username, password };
  return bearerToken !== undefined ? { bearerToken } : undefined;
}
