/**
 * The two shapes every policy of the pack takes: a check of one shipper function's inputs
 * (resource validation, runs before the function is created or updated), or a check of each
 * shipper in the context of the whole stack (stack validation: sources, queues, log groups).
 */
import { ReportViolation, ResourceValidation, ResourceValidationArgs, StackValidation, StackValidationArgs, UnknownValueError } from "@pulumi/policy";
import { FunctionEnvironment, ShipperKind, shipperEnvironments } from "./environment";
import { TYPES } from "./resource-types";
import { Shipper, StackModel } from "./stack-model";

export interface ShipperFunction {
  /** Logical name of the function resource. */
  name: string;
  /** Its settings, as the shipper or as its telemetry extension reads them. */
  env: FunctionEnvironment;
}

/**
 * Runs `check` on the functions of the given kinds: the shipper (an environment with
 * WRITE_ADDRESS) and/or functions carrying the telemetry extension (LOKI_WRITE_ADDRESS); once
 * per kind for a function that is both.
 */
export function validateShipperFunction(
  kinds: readonly ShipperKind[],
  check: (fn: ShipperFunction, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
  return (args, report) => {
    if (args.type !== TYPES.function) return;
    // A variables map computed from outputs cannot be recognised at preview; `pulumi up` sees it.
    for (const env of shipperEnvironments(args.props, kinds)) check({ name: args.name, env }, args, report);
  };
}

/** Reports on the shipper's function unless another resource is named. */
export type ReportOn = (message: string, urn?: string) => void;

/**
 * Runs `check` on every shipper of the stack of the given kinds. A shipper whose check needs a
 * value unknown at preview is skipped without stopping the others; the first such value is then
 * reported to the engine, which notes that the policy could not fully run during preview.
 */
export function validateEachShipper(
  kinds: readonly ShipperKind[],
  check: (shipper: Shipper, stack: StackModel, args: StackValidationArgs, report: ReportOn) => void,
): StackValidation {
  return (args, report) => {
    const stack = new StackModel(args.resources);
    let unknownAtPreview: unknown;
    for (const shipper of stack.shippers) {
      if (!kinds.includes(shipper.env.kind)) continue;
      try {
        check(shipper, stack, args, (message, urn) => report(message, urn ?? shipper.resource.urn));
      } catch (err) {
        if (!(err instanceof UnknownValueError)) throw err;
        unknownAtPreview ??= err;
      }
    }
    if (unknownAtPreview) throw unknownAtPreview;
  };
}
