/**
 * The two shapes every policy of the pack takes: a check of one shipper function's inputs
 * (resource validation, runs before the function is created or updated), or a check of each
 * shipper in the context of the whole stack (stack validation: sources, queues, log groups).
 */
import { ReportViolation, ResourceValidation, ResourceValidationArgs, StackValidation, StackValidationArgs, UnknownValueError } from "@pulumi/policy";
import { FunctionEnvironment, isShipperEnvironment, readEnvironment } from "./environment";
import { TYPES } from "./resource-types";
import { Shipper, StackModel } from "./stack-model";
import { isUnknown } from "./unknowns";

export interface ShipperFunction {
  /** Logical name of the function resource. */
  name: string;
  env: FunctionEnvironment;
}

/** Runs `check` on lambda-promtail functions only (an environment with WRITE_ADDRESS). */
export function validateShipperFunction(
  check: (fn: ShipperFunction, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
  return (args, report) => {
    if (args.type !== TYPES.function) return;
    const env = readEnvironment(args.props);
    // A variables map computed from outputs cannot be recognised at preview; `pulumi up` sees it.
    if (isUnknown(env) || env === undefined || !isShipperEnvironment(env)) return;
    check({ name: args.name, env }, args, report);
  };
}

/** Reports on the shipper's function unless another resource is named. */
export type ReportOn = (message: string, urn?: string) => void;

/**
 * Runs `check` on every shipper of the stack. A shipper whose check needs a value unknown at
 * preview is skipped without stopping the others; the first such value is then reported to the
 * engine, which notes that the policy could not fully run during preview.
 */
export function validateEachShipper(
  check: (shipper: Shipper, stack: StackModel, args: StackValidationArgs, report: ReportOn) => void,
): StackValidation {
  return (args, report) => {
    const stack = new StackModel(args.resources);
    let unknownAtPreview: unknown;
    for (const shipper of stack.shippers) {
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
