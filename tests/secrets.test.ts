import { expect } from "chai";
import { parseShipperConfig } from "../handler/config";
import { InvocationDeadline } from "../handler/deadline";
import { handler, resetForTests } from "../handler/index";
import { fetchWithPowertools, resolveCredential } from "../handler/secrets";
import { AwsJsonServer } from "./support/aws-json-server";
import { setEnv } from "./support/env";
import { failure } from "./support/events";

const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki-password-AbCdEf";
const PARAMETER_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/loki/token";
/** A secret whose endpoint never answers (a VPC function without a route to Secrets Manager). */
const HANGING_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hangs-QwErTy";
/** Made per call: a deadline made when the file loads would pass while other test files run. */
const roomy = () => InvocationDeadline.in(60_000);

describe("credentials given as secret ARNs", () => {
  const server = new AwsJsonServer({
    "secretsmanager.GetSecretValue": (body) => body.SecretId === HANGING_ARN ? "hang" : body.SecretId === SECRET_ARN
      ? { status: 200, body: { ARN: SECRET_ARN, Name: "loki-password", SecretString: "s3cret-from-secrets-manager", VersionId: "v1" } }
      : { status: 400, body: { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." }, errorType: "ResourceNotFoundException" },
    "AmazonSSM.GetParameter": (body) => body.Name === PARAMETER_ARN && body.WithDecryption === true
      ? { status: 200, body: { Parameter: { Name: "/loki/token", Type: "SecureString", Value: "token-from-ssm", Version: 1, ARN: PARAMETER_ARN } } }
      : { status: 400, body: { __type: "ParameterNotFound", message: "not found" }, errorType: "ParameterNotFound" },
  });
  let restoreEnv: () => void;

  before(async () => {
    const endpoint = await server.start();
    restoreEnv = setEnv({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, AWS_ENDPOINT_URL_SSM: endpoint,
      AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test",
    });
  });
  after(async () => {
    restoreEnv();
    await server.stop();
  });

  it("passes plain values through without any lookup", async () => {
    const config = parseShipperConfig({ WRITE_ADDRESS: "https://loki/", USERNAME: "u", PASSWORD: "p" });
    expect(await resolveCredential("PASSWORD", config.password, roomy(), () => Promise.reject(new Error("no lookup expected")))).to.equal("p");
    expect(await resolveCredential("BEARER_TOKEN", config.bearerToken, roomy())).to.equal(undefined);
  });

  it("reads a Secrets Manager secret's SecretString through Powertools and the real SDK client", async () => {
    const config = parseShipperConfig({ WRITE_ADDRESS: "https://loki/", USERNAME: "u", PASSWORD: SECRET_ARN });
    expect(await resolveCredential("PASSWORD", config.password, roomy(), fetchWithPowertools)).to.equal("s3cret-from-secrets-manager");
  });

  it("reads and decrypts an SSM parameter given by its ARN", async () => {
    const config = parseShipperConfig({ WRITE_ADDRESS: "https://loki/", BEARER_TOKEN: PARAMETER_ARN });
    expect(await resolveCredential("BEARER_TOKEN", config.bearerToken, roomy(), fetchWithPowertools)).to.equal("token-from-ssm");
  });

  it("refuses a bearer token read from a secret that no HTTP header can carry (a trailing newline from a file), naming the setting and the ARN", async () => {
    for (const [setting, value] of [["BEARER_TOKEN", "token-from-a-file\n"], ["LOKI_BEARER_TOKEN", "t\u00f6k\u20acn"]]) {
      const err = await failure(resolveCredential(setting, { kind: "ssm", arn: PARAMETER_ARN }, roomy(), async () => value));
      expect(err.message).to.equal(`${setting}: the value of ${PARAMETER_ARN} holds a character an HTTP header cannot carry (a line break or another control character, or one beyond Latin-1): every push would fail`);
    }
    // A password is base64-encoded into its header: any text goes.
    expect(await resolveCredential("PASSWORD", { kind: "ssm", arn: PARAMETER_ARN }, roomy(), async () => "p\u00e4ss\u20ac\n")).to.equal("p\u00e4ss\u20ac\n");
  });

  it("fails naming the setting and the ARN when the secret cannot be read", async () => {
    const missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-XyZ123";
    const err = await failure(resolveCredential("PASSWORD", { kind: "secretsmanager", arn: missing }, roomy(), fetchWithPowertools));
    expect(err.message).to.match(/^PASSWORD: could not read arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing-XyZ123: /);
  });

  it("a secret endpoint that never answers fails the cold start in time, naming the setting, instead of hanging the invocation", async function () {
    this.timeout(10_000);
    const restore = setEnv({ WRITE_ADDRESS: "http://127.0.0.1:1/loki/api/v1/push", USERNAME: "u", PASSWORD: HANGING_ARN, LOG_LEVEL: "error" });
    resetForTests();
    const end = Date.now() + 3000;
    const context = { awsRequestId: "secret-hangs", getRemainingTimeInMillis: () => end - Date.now() };
    try {
      const err = await failure(handler({ Records: [] }, context));
      expect(err.message).to.match(new RegExp(`^PASSWORD: could not read ${HANGING_ARN}: Secrets Manager GetSecretValue: no answer within \\d+ ms`));
      // The margin of a 3 s context is 750 ms: the handler answered well before the deadline.
      expect(context.getRemainingTimeInMillis()).to.be.greaterThan(375);
    } finally {
      restore();
      resetForTests();
    }
  });
});
