/**
 * Runs CrossGuard policies without the Pulumi engine, the way public policy packs test theirs:
 * build the `ResourceValidationArgs` / `StackValidationArgs` the engine would pass, call the
 * policy, collect what it reports.
 *
 * Faithful to the engine where the pack depends on it:
 * - resource policies see inputs, stack policies see outputs, both wrapped in the engine's
 *   unknown-checking proxy (reading an unknown value throws `UnknownValueError`);
 * - an `UnknownValueError` escaping a policy becomes an advisory "can't run … during preview"
 *   note, as the engine reports it, never a violation;
 * - the effective level is the pack config's `enforcementLevel`, else the policy's own, else the
 *   pack's default (advisory); "disabled" policies do not run.
 *
 * Also: fake AWS resources for hand-built inputs, and `fromProgramRun` to feed the resources
 * the Pulumi program registers under mocks (tests/support/pulumi-mocks.ts) to the pack.
 */
import {
  EnforcementLevel,
  Policies,
  Policy,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
  unknownCheckingProxy,
  UnknownValueError,
} from "@pulumi/policy";
import type { ProgramRun } from "./pulumi-mocks";

/** The engine's sentinel for a value unknown at preview (pulumi.runtime.unknownValue). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/* eslint-disable @typescript-eslint/no-explicit-any -- resource properties are untyped JSON */
export type Props = Record<string, any>;

/** A resource as the tests describe it. */
export interface FakeResource {
  type: string;
  name: string;
  /** What resource policies see. */
  inputs: Props;
  /** What stack policies see; defaults to the inputs. */
  outputs?: Props;
  /** Top-level property -> logical names of the resources its value comes from. */
  dependsOn?: Record<string, string[]>;
  parent?: string;
}

export interface Violation {
  policy: string;
  level: EnforcementLevel;
  message: string;
  urn?: string;
}

/** Per policy: a level, or an object with `enforcementLevel` and the policy's properties. */
export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface PackResult {
  violations: Violation[];
  /** "can't run … during preview" notes (advisory). */
  previewNotes: Violation[];
  of(policy: string): Violation[];
  mandatory(): Violation[];
  messages(policy?: string): string[];
}

const STACK = "dev";
const PROJECT = "lambda-promtail";

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:${STACK}::${PROJECT}::${type}::${name}`;
}

class NotApplicable extends Error {}

function policyConfig(config: PackConfig, policy: string): { level?: EnforcementLevel; properties: Record<string, unknown> } {
  const c = config[policy];
  if (c === undefined) return { properties: {} };
  if (typeof c === "string") return { level: c, properties: {} };
  const { enforcementLevel, ...properties } = c;
  return { level: enforcementLevel, properties };
}

function effectiveLevel(policy: Policy, config: PackConfig): EnforcementLevel {
  return policyConfig(config, policy.name).level ?? policy.enforcementLevel ?? "advisory";
}

const getConfigFor = (config: PackConfig, policy: string) => <T extends object>(): T => policyConfig(config, policy).properties as T;
const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

const isTypeOf = (type: string) => (cls: { new (...rest: any[]): unknown }): boolean => (cls as unknown as { __pulumiType?: string }).__pulumiType === type;

/** The arguments the engine passes to a resource policy for `resource`. */
export function resourceArgs(resource: FakeResource, config: PackConfig = {}, policy = ""): ResourceValidationArgs {
  const props = unknownCheckingProxy(resource.inputs) as Props;
  return {
    type: resource.type,
    props,
    urn: urnOf(resource.type, resource.name),
    name: resource.name,
    opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
    stackTags: new Map(),
    isType: isTypeOf(resource.type),
    asType: ((cls: { new (...rest: any[]): unknown }) => (isTypeOf(resource.type)(cls) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: getConfigFor(config, policy),
    notApplicable,
  };
}

/** The arguments the engine passes to a stack policy: every resource, with its dependencies. */
export function stackArgs(resources: readonly FakeResource[], config: PackConfig = {}, policy = ""): StackValidationArgs {
  const byName = new Map<string, PolicyResource>();
  const built = resources.map((r): PolicyResource => {
    const props = unknownCheckingProxy(r.outputs ?? r.inputs) as Props;
    const resource: PolicyResource = {
      type: r.type,
      props,
      urn: urnOf(r.type, r.name),
      name: r.name,
      opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
      dependencies: [],
      propertyDependencies: {},
      isType: isTypeOf(r.type),
      asType: ((cls: { new (...rest: any[]): unknown }) => (isTypeOf(r.type)(cls) ? props : undefined)) as PolicyResource["asType"],
    };
    byName.set(r.name, resource);
    return resource;
  });
  resources.forEach((r, i) => {
    const resource = built[i];
    const lookup = (name: string): PolicyResource => {
      const found = byName.get(name);
      if (!found) throw new Error(`${r.name} depends on unknown resource ${name}`);
      return found;
    };
    for (const [property, names] of Object.entries(r.dependsOn ?? {})) resource.propertyDependencies[property] = names.map(lookup);
    resource.dependencies = [...new Set(Object.values(resource.propertyDependencies).flat())];
    if (r.parent) resource.parent = lookup(r.parent);
  });
  return { resources: built, stackTags: new Map(), getConfig: getConfigFor(config, policy), notApplicable };
}

function collect(policy: Policy, level: EnforcementLevel, out: Violation[], defaultUrn?: string): ReportViolation {
  return (message: string, urn?: string) => out.push({ policy: policy.name, level, message, urn: urn ?? defaultUrn });
}

/** Runs one policy (resource policies on every resource, stack policies once). */
export async function runPolicy(policy: ResourceValidationPolicy | StackValidationPolicy, resources: readonly FakeResource[], config: PackConfig = {}): Promise<PackResult> {
  return runPack([policy], resources, config);
}

/** Runs every policy of a pack on the resources, as `pulumi preview` with the pack would. */
export async function runPack(policies: Policies, resources: readonly FakeResource[], config: PackConfig = {}): Promise<PackResult> {
  const violations: Violation[] = [];
  const previewNotes: Violation[] = [];
  const guard = async (policy: Policy, run: () => void | Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (err) {
      if (err instanceof UnknownValueError) previewNotes.push({ policy: policy.name, level: "advisory", message: `can't run policy '${policy.name}' during preview: ${(err as Error).message}` });
      else if (!(err instanceof NotApplicable)) throw err;
    }
  };
  for (const policy of policies) {
    const level = effectiveLevel(policy, config);
    if (level === "disabled") continue;
    if ("validateStack" in policy) {
      await guard(policy, () => policy.validateStack(stackArgs(resources, config, policy.name), collect(policy, level, violations)));
      continue;
    }
    const validations = policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
    for (const resource of resources) {
      for (const validate of validations) {
        await guard(policy, () => validate(resourceArgs(resource, config, policy.name), collect(policy, level, violations, urnOf(resource.type, resource.name))));
      }
    }
  }
  return {
    violations,
    previewNotes,
    of: (name) => violations.filter((v) => v.policy === name),
    mandatory: () => violations.filter((v) => v.level === "mandatory"),
    messages: (name) => violations.filter((v) => name === undefined || v.policy === name).map((v) => v.message),
  };
}

// ---------------------------------------------------------------------------------------------
// Resources the Pulumi program registers under mocks

/**
 * The program's resources as the pack would see them: inputs for resource policies, the
 * mocks' state for stack policies, and property dependencies recovered by value (an input that
 * holds another resource's ARN, URL or name depends on it), as the engine records them.
 */
export function fromProgramRun(run: ProgramRun): FakeResource[] {
  const identities = run.resources.map((r) => ({
    name: r.name,
    contained: [r.state.arn, r.state.url].filter((v): v is string => typeof v === "string" && v.length > 0),
    equal: [r.state.name].filter((v): v is string => typeof v === "string" && v.length > 0),
  }));
  return run.resources.map((r): FakeResource => {
    const dependsOn: Record<string, string[]> = {};
    for (const [property, value] of Object.entries(r.inputs)) {
      const strings = stringLeaves(value);
      const names = identities
        .filter((id) => id.name !== r.name && strings.some((s) => id.contained.some((c) => s.includes(c)) || id.equal.includes(s)))
        .map((id) => id.name);
      if (names.length > 0) dependsOn[property] = names;
    }
    return { type: r.type, name: r.name, inputs: r.inputs, outputs: r.state, dependsOn };
  });
}

function stringLeaves(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringLeaves);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(stringLeaves);
  return [];
}

// ---------------------------------------------------------------------------------------------
// Fake AWS resources for hand-built stacks

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const WRITE_ADDRESS = "https://loki.example.com/loki/api/v1/push";

const arn = (service: string, resource: string): string => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

export const fake = {
  /** A shipper function (WRITE_ADDRESS set unless overridden) with the given extra variables. */
  shipper(name: string, env: Record<string, string> = {}, props: Props = {}): FakeResource {
    const physical = props.name ?? name;
    const inputs = { name: physical, timeout: 60, environment: { variables: { WRITE_ADDRESS, ...env } }, ...props };
    return { type: "aws:lambda/function:Function", name, inputs, outputs: { ...inputs, arn: arn("lambda", `function:${physical}`) } };
  },
  /**
   * A function of the user's carrying the telemetry extension layer: its own variables plus the
   * extension's LOKI_* settings (LOKI_WRITE_ADDRESS set unless overridden).
   */
  withExtension(name: string, env: Record<string, string> = {}, props: Props = {}): FakeResource {
    const physical = props.name ?? name;
    const variables = { APP_TABLE: "orders", LOKI_WRITE_ADDRESS: WRITE_ADDRESS, ...env };
    const inputs = { name: physical, timeout: 10, runtime: "nodejs22.x", layers: [arn("lambda", "layer:lambda-promtail-extension-dev-x86-64:1")], environment: { variables }, ...props };
    return { type: "aws:lambda/function:Function", name, inputs, outputs: { ...inputs, arn: arn("lambda", `function:${physical}`) } };
  },
  /** Any other function. */
  function(name: string, props: Props = {}): FakeResource {
    const inputs = { name, timeout: 30, ...props };
    return { type: "aws:lambda/function:Function", name, inputs, outputs: { ...inputs, arn: arn("lambda", `function:${name}`) } };
  },
  logGroup(name: string, props: Props = {}): FakeResource {
    const inputs = { name, ...props };
    return { type: "aws:cloudwatch/logGroup:LogGroup", name: `lg-${name.replace(/\W+/g, "-")}`, inputs, outputs: { ...inputs, arn: arn("logs", `log-group:${name}`) } };
  },
  subscriptionFilter(name: string, logGroup: string, fn: FakeResource): FakeResource {
    const inputs = { logGroup, filterPattern: "", destinationArn: fn.outputs?.arn };
    return { type: "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", name, inputs, dependsOn: { destinationArn: [fn.name] } };
  },
  queue(name: string, props: Props = {}): FakeResource {
    const inputs = { name, ...props };
    const url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
    return { type: "aws:sqs/queue:Queue", name, inputs, outputs: { ...inputs, arn: arn("sqs", name), url } };
  },
  /** An event source mapping from a queue or stream (resource or ARN) to a function. */
  mapping(name: string, source: FakeResource | string, fn: FakeResource, props: Props = {}): FakeResource {
    const eventSourceArn = typeof source === "string" ? source : source.outputs?.arn;
    const inputs = { eventSourceArn, functionName: fn.outputs?.arn, ...props };
    const dependsOn: Record<string, string[]> = { functionName: [fn.name] };
    if (typeof source !== "string") dependsOn.eventSourceArn = [source.name];
    return { type: "aws:lambda/eventSourceMapping:EventSourceMapping", name, inputs, dependsOn };
  },
  kinesisArn: (stream: string): string => arn("kinesis", `stream/${stream}`),
  bucketNotification(name: string, bucket: string, fn: FakeResource): FakeResource {
    const inputs = { bucket, lambdaFunctions: [{ lambdaFunctionArn: fn.outputs?.arn, events: ["s3:ObjectCreated:*"] }] };
    return { type: "aws:s3/bucketNotification:BucketNotification", name, inputs, dependsOn: { lambdaFunctions: [fn.name] } };
  },
};
