/**
 * The stack as the pack sees it: the shipper functions (recognised by WRITE_ADDRESS in their
 * environment, so hand-made stacks are guarded too), the functions carrying the telemetry
 * extension (LOKI_WRITE_ADDRESS), and for each shipper, the resources that feed it:
 * subscription filters, event source mappings, bucket notifications, EventBridge targets, SNS
 * subscriptions and invoke permissions.
 *
 * A reference from one resource to another is recognised by the engine's property dependencies
 * (known even at preview, when ARNs are not), else by value (a name or ARN of the function).
 */
import type { PolicyResource } from "@pulumi/policy";
import { FunctionEnvironment, SHIPPER_FUNCTION, shipperEnvironments } from "./environment";
import { TYPES } from "./resource-types";
import { isUnknown, Maybe, readArray, readPath, readString } from "./unknowns";

/** A function running the shipper's pipeline: the shipper, or a function with the telemetry extension. */
export interface Shipper {
  readonly resource: PolicyResource;
  /** Logical name, for messages. */
  readonly name: string;
  /** Its settings; `env.kind` tells the shipper from the extension. */
  readonly env: FunctionEnvironment;
  /** Known function name and ARN. */
  readonly identifiers: readonly string[];
  /** Account id from the function's ARN, when known. */
  readonly account?: string;
}

export type SourceKind = "cloudwatch" | "kinesis" | "s3";

/** Something in the stack that makes the shipper receive events of one kind. */
export interface DiscoveredSource {
  kind: SourceKind;
  /** Log group name, Kinesis stream ARN or bucket name, when known. */
  key?: string;
  /** Logical name of the resource it was found through. */
  via: string;
}

export type MappingKind = "kinesis" | "sqs" | "other";

export interface EventSourceMapping {
  readonly resource: PolicyResource;
  readonly kind: MappingKind;
  /** The queue resource of an SQS mapping, when the stack declares it. */
  readonly queue?: PolicyResource;
}

export class StackModel {
  /** Every pipeline of the stack: one per kind a function runs (a function may run both). */
  readonly shippers: readonly Shipper[];
  /** How many functions are shippers proper (fed by event sources). */
  private readonly shipperFunctions: number;

  constructor(readonly resources: readonly PolicyResource[]) {
    this.shippers = resources.flatMap((r) => (r.type === TYPES.function ? asShippers(r) : []));
    this.shipperFunctions = this.shippers.filter((s) => s.env.kind === SHIPPER_FUNCTION).length;
  }

  ofType(type: string): PolicyResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /**
   * Whether `resource.property` refers to the shipper. An unknown value without dependency
   * information is taken to mean the shipper when the stack has only one: the engine always
   * sends dependencies, so this only matters for hand-fed inputs, where erring towards checking
   * is the safer side.
   */
  refersToShipper(resource: PolicyResource, property: string, shipper: Shipper, value: Maybe<unknown> = readPath(resource.props, [property])): boolean {
    if (dependsOn(resource, property, shipper.resource)) return true;
    if (isUnknown(value)) return this.shipperFunctions === 1;
    return containsFunctionReference(value, shipper);
  }

  /** The resources that make `shipper` receive events, as source kinds. */
  sourcesOf(shipper: Shipper): DiscoveredSource[] {
    const found: DiscoveredSource[] = [];
    for (const r of this.resources) found.push(...this.sourcesThrough(r, shipper));
    return dedupeSources(found);
  }

  private sourcesThrough(r: PolicyResource, shipper: Shipper): DiscoveredSource[] {
    switch (r.type) {
      case TYPES.subscriptionFilter: {
        if (!this.refersToShipper(r, "destinationArn", shipper)) return [];
        return [{ kind: "cloudwatch", key: knownString(readString(r.props, ["logGroup"])), via: r.name }];
      }
      case TYPES.eventSourceMapping: {
        if (!this.refersToShipper(r, "functionName", shipper)) return [];
        const mapping = this.describeMapping(r);
        if (mapping.kind === "kinesis") return [{ kind: "kinesis", key: knownString(readString(r.props, ["eventSourceArn"])), via: r.name }];
        // The shipper reads S3 event notifications (direct, SNS-wrapped or EventBridge) from SQS.
        if (mapping.kind === "sqs") return [{ kind: "s3", via: r.name }];
        return [];
      }
      case TYPES.bucketNotification: {
        const targets = readArray(r.props, ["lambdaFunctions"]);
        const refers = dependsOn(r, "lambdaFunctions", shipper.resource) ||
          (isUnknown(targets) ? this.shipperFunctions === 1 : targets.some((t) => this.refersToShipper(r, "lambdaFunctions", shipper, readPath(t, ["lambdaFunctionArn"]))));
        return refers ? [{ kind: "s3", key: knownString(readString(r.props, ["bucket"])), via: r.name }] : [];
      }
      case TYPES.eventTarget:
        // The shipper reads S3 "Object Created" events from EventBridge.
        return this.refersToShipper(r, "arn", shipper) ? [{ kind: "s3", via: r.name }] : [];
      case TYPES.topicSubscription:
        return readString(r.props, ["protocol"]) === "lambda" && this.refersToShipper(r, "endpoint", shipper) ? [{ kind: "s3", via: r.name }] : [];
      case TYPES.permission:
        return this.refersToShipper(r, "function", shipper) ? sourceFromPermission(r) : [];
      default:
        return [];
    }
  }

  /** Event source mappings that invoke the shipper. */
  mappingsOf(shipper: Shipper): EventSourceMapping[] {
    return this.ofType(TYPES.eventSourceMapping)
      .filter((r) => this.refersToShipper(r, "functionName", shipper))
      .map((r) => this.describeMapping(r));
  }

  /** What a mapping reads: from its source ARN, else from what it depends on, else from its shape. */
  describeMapping(r: PolicyResource): EventSourceMapping {
    const arn = readString(r.props, ["eventSourceArn"]);
    const queueByDependency = dependencies(r, "eventSourceArn").find((d) => d.type === TYPES.queue);
    if (!isUnknown(arn) && arn !== undefined) {
      const service = /^arn:[^:]+:([^:]+):/.exec(arn)?.[1];
      if (service === "sqs") {
        return { resource: r, kind: "sqs", queue: queueByDependency ?? this.ofType(TYPES.queue).find((q) => readString(q.props, ["arn"]) === arn) };
      }
      return { resource: r, kind: service === "kinesis" ? "kinesis" : "other" };
    }
    if (queueByDependency) return { resource: r, kind: "sqs", queue: queueByDependency };
    if (dependencies(r, "eventSourceArn").some((d) => d.type === TYPES.kinesisStream)) return { resource: r, kind: "kinesis" };
    // SQS mappings cannot have a starting position; stream mappings must.
    const startingPosition = readPath(r.props, ["startingPosition"]);
    return { resource: r, kind: startingPosition === undefined ? "sqs" : "kinesis" };
  }

  /**
   * Whether a resource of `type` refers to `target` through `property` (dependency or value).
   * Used for queues' redrive policies and log groups.
   */
  resourcesReferring(type: string, property: string, target: PolicyResource, targetValues: readonly string[]): PolicyResource[] {
    return this.ofType(type).filter((r) => {
      if (dependsOn(r, property, target)) return true;
      const value = readPath(r.props, [property]);
      return !isUnknown(value) && typeof value === "string" && targetValues.includes(value);
    });
  }
}

function asShippers(r: PolicyResource): Shipper[] {
  // A computed variables map cannot be recognised as the shipper's: nothing to check (yet).
  const envs = shipperEnvironments(r.props);
  if (envs.length === 0) return [];
  const name = knownString(readString(r.props, ["name"]));
  const arn = knownString(readString(r.props, ["arn"]));
  const account = arn ? /^arn:[^:]+:lambda:[^:]*:(\d{12}):/.exec(arn)?.[1] : undefined;
  return envs.map((env) => ({ resource: r, name: r.name, env, identifiers: [name, arn].filter((s): s is string => !!s), ...(account ? { account } : {}) }));
}

export function knownString(value: Maybe<string | undefined>): string | undefined {
  return isUnknown(value) || value === "" ? undefined : value;
}

export function dependencies(r: PolicyResource, property: string): PolicyResource[] {
  const deps = r.propertyDependencies?.[property];
  return Array.isArray(deps) ? deps : [];
}

export function dependsOn(r: PolicyResource, property: string, target: PolicyResource): boolean {
  return dependencies(r, property).some((d) => d.urn === target.urn);
}

/**
 * Whether a value (a string, or an object/array holding strings) names the function: its name,
 * its ARN (qualified or not), or a partial ARN `…:function:<name>[:qualifier]`.
 */
function containsFunctionReference(value: unknown, shipper: Shipper): boolean {
  if (typeof value === "string") return namesFunction(value, shipper);
  if (Array.isArray(value)) return value.some((v) => containsFunctionReference(v, shipper));
  if (value !== null && typeof value === "object") return Object.values(value).some((v) => containsFunctionReference(v, shipper));
  return false;
}

function namesFunction(value: string, shipper: Shipper): boolean {
  for (const id of shipper.identifiers) {
    if (value === id || value.startsWith(`${id}:`)) return true;
    if (!id.startsWith("arn:") && new RegExp(`:function:${escapeRegExp(id)}(?::[^:]+)?$`).test(value)) return true;
  }
  return false;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** An invoke permission tells which service invokes the function, and often which resource. */
function sourceFromPermission(r: PolicyResource): DiscoveredSource[] {
  const principal = knownString(readString(r.props, ["principal"])) ?? "";
  const sourceArn = knownString(readString(r.props, ["sourceArn"]));
  const service = /^([a-z0-9-]+)(?:\.[a-z0-9-]+)?\.amazonaws\.com$/.exec(principal)?.[1];
  switch (service) {
    case "logs": {
      const group = sourceArn ? /:log-group:(.+?)(?::\*)?$/.exec(sourceArn)?.[1] : undefined;
      return [{ kind: "cloudwatch", ...(group && !group.includes("*") ? { key: group } : {}), via: r.name }];
    }
    case "s3": {
      const bucket = sourceArn ? /^arn:[^:]+:s3:::([^/]+)$/.exec(sourceArn)?.[1] : undefined;
      return [{ kind: "s3", ...(bucket ? { key: bucket } : {}), via: r.name }];
    }
    case "events":
    case "sns":
      return [{ kind: "s3", via: r.name }];
    default:
      return [];
  }
}

/** One source per kind and key; a keyless source of a kind adds nothing when a keyed one exists. */
function dedupeSources(sources: DiscoveredSource[]): DiscoveredSource[] {
  const out: DiscoveredSource[] = [];
  for (const s of sources) {
    if (out.some((o) => o.kind === s.kind && o.key === s.key)) continue;
    out.push(s);
  }
  return out.filter((s) => s.key !== undefined || !out.some((o) => o.kind === s.kind && o.key !== undefined));
}
