/**
 * The telemetry extension in Pulumi: the stack's extensionLayer setting publishes one layer
 * version per architecture and exports their ARNs; LokiExtension attaches the extension to a
 * function of the user's own program (layer, LOKI_* environment, read permission on exactly the
 * credentials' ARNs) and fails preview with the extension's own validator messages.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as aws from "@pulumi/aws";
import { expect } from "chai";
import { LokiExtension, validateExtensionSettings } from "../infra/extension";
import { EXTENSION_COMPATIBLE_RUNTIMES, layerVersionName } from "../infra/extensionLayer";
import { parseStackSettings, StackConfigError } from "../infra/settings";
import { runInMocks, runProgram } from "./support/pulumi-mocks";

const WRITE = "https://loki.example.com/loki/api/v1/push";
const LAYER_T = "aws:lambda/layerVersion:LayerVersion";
const POLICY_T = "aws:iam/rolePolicy:RolePolicy";
const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:loki-password-AbCdEf";
const PARAM = "arn:aws:ssm:us-east-1:123456789012:parameter/loki/username";
const KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe("extensionLayer stack setting", () => {
  const cases: { value: unknown; architectures?: string[]; error?: RegExp }[] = [
    { value: undefined },
    { value: false },
    { value: "false" },
    { value: true, architectures: ["x86_64", "arm64"] },
    { value: "true", architectures: ["x86_64", "arm64"] },
    { value: "arm64", architectures: ["arm64"] },
    { value: ["x86_64"], architectures: ["x86_64"] },
    { value: '["arm64","x86_64"]', architectures: ["arm64", "x86_64"] },
    { value: "x86_64, x86_64", architectures: ["x86_64"] },
    { value: "amd64", error: /Invalid stack config "extensionLayer": "amd64" is not an architecture\. Accepted form: true, false, or/ },
    { value: [], error: /"extensionLayer": lists no architecture/ },
    { value: { architectures: 1 }, error: /"extensionLayer": expected true, false or a list of architectures, got a map/ },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.value)} -> ${c.error ? "refused" : JSON.stringify(c.architectures ?? "no layer")}`, () => {
      const raw = { writeAddress: WRITE, ...(c.value === undefined ? {} : { extensionLayer: c.value }) };
      if (c.error) {
        expect(() => parseStackSettings(raw)).to.throw(StackConfigError, c.error);
        return;
      }
      const s = parseStackSettings(raw);
      if (!c.architectures) expect(s.extensionLayer).to.equal(undefined);
      else expect(s.extensionLayer).to.deep.equal({ architectures: c.architectures, zipPath: "dist/lambda-promtail-extension.zip" });
    });
  }
});

describe("the program publishes the extension layer", () => {
  let dir: string;
  let zip: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "layer-"));
    zip = path.join(dir, "ext.zip");
    fs.writeFileSync(zip, "PK");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("names each layer version within Lambda's rule (letters, digits, - and _, at most 140) whatever the stack's name", () => {
    const cases: [string, string, string][] = [
      ["dev", "x86_64", "lambda-promtail-extension-dev-x86-64"],
      // Pulumi stack names may hold periods: Lambda refused the layer at pulumi up.
      ["infra.dev", "arm64", "lambda-promtail-extension-infra-dev-arm64"],
    ];
    for (const [stack, architecture, expected] of cases) {
      const name = layerVersionName("lambda-promtail-extension", stack, architecture);
      expect(name.startsWith(expected), name).to.equal(true);
      expect(name).to.match(/^[A-Za-z0-9_-]{1,140}$/);
    }
    expect(layerVersionName("lambda-promtail-extension", "dev", "x86_64")).to.equal("lambda-promtail-extension-dev-x86-64");
    // Stacks that differ only where characters were replaced, or past the cut, keep distinct layers.
    expect(layerVersionName("lambda-promtail-extension", "infra.dev", "arm64")).to.not.equal(layerVersionName("lambda-promtail-extension", "infra-dev", "arm64"));
    const long = (end: string) => layerVersionName("a-long-component-name-chosen-by-a-library-user", "s".repeat(99) + end, "x86_64");
    expect(long("1")).to.match(/^[A-Za-z0-9_-]{140}$/);
    expect(long("1")).to.not.equal(long("2"));
  });

  it("declares one layer version per architecture, Node.js runtimes only, and exports their ARNs", async () => {
    const run = await runProgram({ writeAddress: WRITE, packageType: "image", imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/lp:1", extensionLayer: true, extensionLayerZip: zip });
    const layers = run.ofType(LAYER_T);
    expect(layers.map((l) => l.name).sort()).to.deep.equal(["lambda-promtail-extension-arm64", "lambda-promtail-extension-x86-64"]);
    for (const l of layers) {
      expect(l.inputs.compatibleRuntimes).to.deep.equal(EXTENSION_COMPATIBLE_RUNTIMES);
      expect(l.inputs.compatibleRuntimes.every((r: string) => r.startsWith("nodejs"))).to.equal(true);
      expect(l.inputs.compatibleArchitectures).to.have.length(1);
      expect(l.inputs.layerName).to.equal(`lambda-promtail-extension-dev-${l.inputs.compatibleArchitectures[0].replace("_", "-")}`);
    }
    const arns = run.outputs.extensionLayerArns as Record<string, string>;
    expect(Object.keys(arns).sort()).to.deep.equal(["arm64", "x86_64"]);
    expect(arns.arm64).to.be.a("string").and.not.equal(arns.x86_64);
  });

  it("declares no layer and exports no ARNs without the setting", async () => {
    const run = await runProgram({ writeAddress: WRITE, packageType: "image", imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/lp:1" });
    expect(run.ofType(LAYER_T)).to.deep.equal([]);
    expect(run.outputs).to.not.have.property("extensionLayerArns");
  });

  it("fails before declaring anything when the zip was not built", async () => {
    const missing = path.join(dir, "missing.zip");
    let error: Error | undefined;
    try {
      await runProgram({ writeAddress: WRITE, packageType: "image", imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/lp:1", extensionLayer: "arm64", extensionLayerZip: missing });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.equal(`extensionLayer: the layer zip ${missing} does not exist. Run \`npm run build\` first, or set extensionLayerZip to the zip.`);
  });
});

describe("validateExtensionSettings (the extension's own validator, LOKI_ prefixed)", () => {
  const cases: { name: string; settings: Record<string, string>; error?: RegExp; secrets?: string[]; parameters?: string[] }[] = [
    { name: "write address only", settings: { LOKI_WRITE_ADDRESS: WRITE }, secrets: [], parameters: [] },
    { name: "basic auth from SSM and Secrets Manager", settings: { LOKI_WRITE_ADDRESS: WRITE, LOKI_USERNAME: PARAM, LOKI_PASSWORD: SECRET }, secrets: [SECRET], parameters: [PARAM] },
    { name: "bearer token from Secrets Manager", settings: { LOKI_WRITE_ADDRESS: WRITE, LOKI_BEARER_TOKEN: SECRET }, secrets: [SECRET], parameters: [] },
    { name: "plaintext password", settings: { LOKI_WRITE_ADDRESS: WRITE, LOKI_USERNAME: PARAM, LOKI_PASSWORD: "hunter2" }, error: /^LOKI_PASSWORD: is a plaintext credential.*Accepted form: the ARN of a Secrets Manager secret/ },
    { name: "plaintext bearer token", settings: { LOKI_WRITE_ADDRESS: WRITE, LOKI_BEARER_TOKEN: "glc_abc" }, error: /^LOKI_BEARER_TOKEN: is a plaintext credential/ },
    { name: "missing write address", settings: {}, error: /^LOKI_WRITE_ADDRESS: / },
    { name: "bad flush strategy", settings: { LOKI_WRITE_ADDRESS: WRITE, LOKI_FLUSH_STRATEGY: "sometimes" }, error: /^LOKI_FLUSH_STRATEGY: "sometimes" is not a flush strategy\. Accepted form: auto or end-of-invocation$/ },
    { name: "setting the extension refuses", settings: { LOKI_WRITE_ADDRESS: WRITE, LOKI_KEEP_STREAM: "true" }, error: /^LOKI_KEEP_STREAM: is not supported by the telemetry extension/ },
    { name: "typo", settings: { LOKI_WRITE_ADDRES: WRITE }, error: /^LOKI_WRITE_ADDRES: is not a setting of the telemetry extension/ },
    { name: "unprefixed", settings: { LOKI_WRITE_ADDRESS: WRITE, BATCH_SIZE: "10" }, error: /^BATCH_SIZE: is not a setting of the telemetry extension\. Accepted form: a variable named LOKI_<SETTING>/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) {
        expect(() => validateExtensionSettings(c.settings)).to.throw(c.error);
        return;
      }
      expect(validateExtensionSettings(c.settings)).to.deep.equal({ secretArns: c.secrets, parameterArns: c.parameters });
    });
  }
});

describe("LokiExtension in a user's own program", () => {
  /** A user's program: a role, a custom log group, a function with the extension. */
  const userProgram = (settings: Record<string, string>, kmsKeyArn?: string) => () => {
    const role = new aws.iam.Role("app-role", { assumeRolePolicy: "{}" });
    const logGroup = new aws.cloudwatch.LogGroup("app-logs", { name: "/custom/app" });
    const loki = new LokiExtension("app-loki", { layerArn: "arn:aws:lambda:us-east-1:123456789012:layer:lp-arm64:3", role: role.name, settings, logGroupName: logGroup.name, kmsKeyArn });
    new aws.lambda.Function(
      "app",
      { role: role.arn, runtime: "nodejs22.x", handler: "index.handler", layers: loki.layers, loggingConfig: { logFormat: "JSON", logGroup: logGroup.name }, environment: { variables: { APP_MODE: "prod", ...loki.environment } } },
      { dependsOn: loki.dependencies },
    );
    return {};
  };

  it("gives the function the layer, the LOKI_* environment with its log group, and reads exactly its credentials", async () => {
    const run = await runInMocks(userProgram({ LOKI_WRITE_ADDRESS: WRITE, LOKI_USERNAME: PARAM, LOKI_PASSWORD: SECRET }, KEY));
    const fn = run.one("aws:lambda/function:Function");
    expect(fn.inputs.layers).to.deep.equal(["arn:aws:lambda:us-east-1:123456789012:layer:lp-arm64:3"]);
    expect(fn.inputs.environment.variables).to.deep.equal({ APP_MODE: "prod", LOKI_WRITE_ADDRESS: WRITE, LOKI_USERNAME: PARAM, LOKI_PASSWORD: SECRET, LOKI_LOG_GROUP_NAME: "/custom/app" });
    const policy = run.one(POLICY_T);
    expect(policy.inputs.role).to.equal(run.one("aws:iam/role:Role").state.name);
    expect(JSON.parse(policy.inputs.policy).Statement).to.deep.equal([
      { Sid: "ReadCredentialSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [SECRET] },
      { Sid: "ReadCredentialParameters", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: [PARAM] },
      { Sid: "DecryptWithConfiguredKey", Effect: "Allow", Action: ["kms:Decrypt"], Resource: KEY },
    ]);
  });

  it("keeps an explicit LOKI_LOG_GROUP_NAME and declares no policy without credentials", async () => {
    const run = await runInMocks(userProgram({ LOKI_WRITE_ADDRESS: WRITE, LOKI_LOG_GROUP_NAME: "/shared/group" }));
    expect(run.one("aws:lambda/function:Function").inputs.environment.variables.LOKI_LOG_GROUP_NAME).to.equal("/shared/group");
    expect(run.ofType(POLICY_T)).to.deep.equal([]);
  });

  it("fails preview with the validator's message", async () => {
    let error: Error | undefined;
    try {
      await runInMocks(userProgram({ LOKI_WRITE_ADDRESS: WRITE, LOKI_BEARER_TOKEN: "glc_plaintext" }), { preview: true });
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/^LOKI_BEARER_TOKEN: is a plaintext credential/);
  });
});
