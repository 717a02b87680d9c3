/**
 * Runs the Pulumi program (index.ts) under Pulumi's unit-test mocks for a given stack config and
 * returns every resource it registered, with its inputs, and the stack outputs. Used by the infra
 * tests and by the policy pack's tests (feed `resources` to the pack as resource arguments).
 *
 * Each run installs fresh mocks (`setMocks` replaces the process-wide mock monitor), sets the
 * config, and re-evaluates index.ts inside `runInPulumiStack`, just as the Pulumi language host
 * does; runs are therefore independent, but must not overlap (await each one).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";

export const PROJECT = "lambda-promtail";
export const STACK = "dev";
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const PARTITION = "aws";
export const ROOT = path.resolve(__dirname, "..", "..");
export const PROGRAM = path.join(ROOT, "index.ts");

/** One registered resource, as the engine would see it. */
export interface RegisteredResource {
  /** Type token, e.g. `aws:lambda/function:Function`. */
  type: string;
  /** Logical name. */
  name: string;
  /** Inputs with secrets unwrapped (what a CrossGuard policy sees as `props`). */
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Dotted paths of the inputs that were Pulumi secrets (e.g. `secretString`). */
  secretPaths: string[];
  /** false for component resources (ours and awsx's). */
  custom: boolean;
  /** The state the mocks returned: inputs plus synthesized names, ARNs and URLs. */
  state: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ProgramRun {
  resources: RegisteredResource[];
  /** Stack outputs, resolved (secrets unwrapped). */
  outputs: Record<string, unknown>;
  /** Names of the stack outputs that are secret. */
  secretOutputs: string[];
  /** Resources of one type. */
  ofType(type: string): RegisteredResource[];
  /** The one resource of a type (optionally whose logical name ends with `suffix`); throws otherwise. */
  one(type: string, suffix?: string): RegisteredResource;
}

export interface RunOptions {
  /** Config keys to mark secret, like `pulumi config set --secret`. */
  secretKeys?: string[];
  /** Run as a preview (unknown values stay unknown). Default false. */
  preview?: boolean;
  /** The program to run. Default: the repository's index.ts. */
  program?: string;
}

/**
 * Errors a run rejected with. When a program throws, Pulumi's internals re-raise the error from
 * promises nobody awaits; those unhandled rejections are expected and swallowed. Any other
 * unhandled rejection is left to the test runner's own handler (mocha reports or ignores it as
 * it always does), and is reported on stderr when a run is in progress.
 */
const expected = new WeakSet<object>();
let listening = false;
function swallowExpectedRejections(): void {
  if (listening) return;
  listening = true;
  process.on("unhandledRejection", (reason) => {
    if (reason !== null && typeof reason === "object" && expected.has(reason)) return;
    if (running) console.error("unhandled rejection during a mocked Pulumi run:", reason);
  });
}
let running = false;

/** Stack config as the Pulumi CLI hands it to a program: qualified keys, string values (JSON for structured ones). */
export function toPulumiConfig(config: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    out[key.includes(":") ? key : `${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/** The `config:` map of a stack file (e.g. Pulumi.dev.yaml), keys as written. */
export function loadStackConfig(file = path.join(ROOT, `Pulumi.${STACK}.yaml`)): Record<string, unknown> {
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  return { ...(doc?.config ?? {}) };
}

/** Runs the program for `config` (keys with or without the `lambda-promtail:` namespace). Rejects with the program's error. */
export async function runProgram(config: Readonly<Record<string, unknown>>, options: RunOptions = {}): Promise<ProgramRun> {
  const qualify = (k: string): string => (k.includes(":") ? k : `${PROJECT}:${k}`);
  const program = options.program ?? PROGRAM;
  return runInMocks(
    () => {
      // The mocks answer as a stack in REGION; a stack names its region in aws:region (give
      // `"aws:region": undefined` to leave it out), so the developer's AWS_REGION plays no part.
      pulumi.runtime.setAllConfig(toPulumiConfig({ "aws:region": REGION, ...config }), (options.secretKeys ?? []).map(qualify));
      delete require.cache[require.resolve(program)];
      return require(program); // eslint-disable-line @typescript-eslint/no-require-imports
    },
    { preview: options.preview },
  );
}

/**
 * Runs `declare` inside a fresh mocked stack (fresh mock monitor, root stack resource) and
 * returns what it registered; what `declare` returns becomes the stack outputs. Rejects with
 * the error `declare` throws, or with the first resource the mocked provider refused.
 */
export async function runInMocks(declare: () => Record<string, unknown>, options: { preview?: boolean } = {}): Promise<ProgramRun> {
  swallowExpectedRejections();
  if (running) throw new Error("runInMocks: a mocked run is already in progress; await each run before starting the next");
  running = true;
  const resources: RegisteredResource[] = [];
  const failures: Error[] = [];
  let declared: Record<string, unknown> = {};
  let outputs: Record<string, unknown>;
  // Pulumi captures a stack trace for every promise and resource; formatting them through
  // ts-node's source-map support costs most of a run. V8's own formatting is ten times faster.
  const prepareStackTrace = Error.prepareStackTrace;
  (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
  try {
    await pulumi.runtime.setMocks(recordingMocks(resources, failures), PROJECT, STACK, options.preview ?? false);
    outputs = (await pulumi.runtime.runInPulumiStack(async () => {
      declared = declare();
      return declared;
    })) as Record<string, unknown>;
  } catch (err) {
    if (err !== null && typeof err === "object") expected.add(err);
    throw err;
  } finally {
    // Let every registration finish before the next run replaces the mocks.
    await pulumi.runtime.disconnect();
    Error.prepareStackTrace = prepareStackTrace;
    running = false;
  }
  if (failures.length > 0) throw failures[0];

  const secretOutputs: string[] = [];
  for (const [name, value] of Object.entries(declared)) {
    if (pulumi.Output.isInstance(value) && (await pulumi.isSecret(value))) secretOutputs.push(name);
  }
  const own = resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
  return {
    resources: own,
    outputs,
    secretOutputs,
    ofType: (type) => own.filter((r) => r.type === type),
    one: (type, suffix) => {
      const found = own.filter((r) => r.type === type && (suffix === undefined || r.name.endsWith(suffix)));
      if (found.length !== 1) throw new Error(`expected one ${type}${suffix ? ` named *${suffix}` : ""}, found ${found.map((r) => r.name).join(", ") || "none"}`);
      return found[0];
    },
  };
}

// ---------------------------------------------------------------------------------------------

const SECRET_SIG = pulumi.runtime.specialSigKey;
const SECRET_VALUE = pulumi.runtime.specialSecretSig;

/** Unwraps secret markers, recording where they were. */
function unwrapSecrets(value: unknown, at: string, paths: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${at}[${i}]`, paths));
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] === SECRET_VALUE) {
      paths.push(at);
      return unwrapSecrets(obj.value, at, []);
    }
    if (SECRET_SIG in obj) return value;
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) return value; // assets, archives, resources
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = unwrapSecrets(v, at ? `${at}.${k}` : k, paths);
    return out;
  }
  return value;
}

/**
 * The AWS provider's autonaming limits of the resources the programs create: a field left unset is
 * named `<logical name>-<7 random characters>`, and a logical name too long for the field's limit
 * fails \`pulumi preview\` (pulumi-terraform-bridge NewUniqueHex). Each entry: the field, and its
 * limit (the provider's AutoName settings; 255 is its default for \`name\`).
 */
const AUTONAMED: Readonly<Record<string, { field: string; max: number }>> = {
  "aws:lambda/permission:Permission": { field: "statementId", max: 100 },
  "aws:lambda/function:Function": { field: "name", max: 64 },
  "aws:iam/role:Role": { field: "name", max: 64 },
  "aws:sqs/queue:Queue": { field: "name", max: 80 },
  "aws:cloudwatch/eventRule:EventRule": { field: "name", max: 64 },
  "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": { field: "name", max: 255 },
  "aws:cloudwatch/metricAlarm:MetricAlarm": { field: "name", max: 255 },
  "aws:secretsmanager/secret:Secret": { field: "name", max: 255 },
};

/** Fails as the provider does when a logical name is too long for the field it names. */
function checkAutoname(type: string, name: string, inputs: Record<string, unknown>): void {
  const autonamed = AUTONAMED[type];
  if (autonamed === undefined || inputs[autonamed.field] !== undefined || inputs[`${autonamed.field}Prefix`] !== undefined) return;
  const prefix = `${name}-`;
  if (prefix.length + 7 > autonamed.max) {
    throw new Error(`could not make instance of '${type}': name '${prefix}' plus 7 random chars is longer than maximum length ${autonamed.max}`);
  }
}

/** A physical name like the AWS provider would give: the explicit name, the prefix plus a suffix, or the logical name plus a suffix. */
function physicalName(name: string, inputs: Record<string, unknown>): string {
  if (typeof inputs.name === "string") return inputs.name;
  if (typeof inputs.namePrefix === "string") return `${inputs.namePrefix}20240101000000000000000001`;
  return `${name}-1a2b3c4`;
}

function mockState(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
  const physical = physicalName(name, inputs);
  const state: Record<string, unknown> = { ...inputs };
  const at = `${REGION}:${ACCOUNT}`;
  switch (type) {
    case "aws:sqs/queue:Queue": {
      const url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}`;
      return { id: url, state: { ...state, name: physical, url, arn: `arn:${PARTITION}:sqs:${at}:${physical}` } };
    }
    case "aws:lambda/function:Function":
      return { id: physical, state: { ...state, name: physical, arn: `arn:${PARTITION}:lambda:${at}:function:${physical}` } };
    case "aws:iam/role:Role":
      return { id: physical, state: { ...state, name: physical, arn: `arn:${PARTITION}:iam::${ACCOUNT}:role/${physical}` } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: physical, state: { ...state, name: physical, arn: `arn:${PARTITION}:logs:${at}:log-group:${physical}` } };
    case "aws:secretsmanager/secret:Secret": {
      const arn = `arn:${PARTITION}:secretsmanager:${at}:secret:${physical}-AbCdEf`;
      return { id: arn, state: { ...state, name: physical, arn } };
    }
    case "aws:cloudwatch/eventRule:EventRule":
      return { id: physical, state: { ...state, name: physical, arn: `arn:${PARTITION}:events:${at}:rule/${physical}` } };
    case "awsx:ecr:Repository":
      return { id: "", state: { ...state, url: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${physical}` } };
    case "awsx:ecr:Image":
      return { id: "", state: { ...state, imageUri: `${String(inputs.repositoryUrl)}@sha256:${"ab".repeat(32)}` } };
    default:
      return { id: `${physical}-id`, state: { ...state, arn: `arn:${PARTITION}:mock:${at}:${type}/${physical}` } };
  }
}

function recordingMocks(resources: RegisteredResource[], failures: Error[]): pulumi.runtime.Mocks {
  return {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
      const secretPaths: string[] = [];
      const inputs = unwrapSecrets(args.inputs, "", secretPaths) as Record<string, unknown>;
      try {
        checkAutoname(args.type, args.name, inputs);
      } catch (err) {
        // The engine reports a provider's refusal as a failed preview, whatever the program awaits.
        failures.push(err as Error);
        throw err;
      }
      const { id, state } = mockState(args.type, args.name, inputs);
      resources.push({ type: args.type, name: args.name, inputs, secretPaths, custom: args.custom ?? true, state });
      // Keep secrets secret in the returned state too.
      return { id, state: { ...state, ...Object.fromEntries(secretPaths.filter((p) => !p.includes(".") && !p.includes("[")).map((p) => [p, args.inputs[p]])) } };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      switch (args.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: ACCOUNT, arn: `arn:${PARTITION}:iam::${ACCOUNT}:user/test`, userId: "AIDTEST", id: ACCOUNT };
        case "aws:index/getRegion:getRegion":
          return { name: REGION, region: REGION, id: REGION, endpoint: `ec2.${REGION}.amazonaws.com`, description: "US East (N. Virginia)" };
        case "aws:index/getPartition:getPartition":
          return { partition: PARTITION, dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: PARTITION };
        default:
          throw new Error(`unmocked call ${args.token}`);
      }
    },
  };
}
