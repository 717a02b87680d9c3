/**
 * The function's environment must pass the handler's own validator: otherwise the function
 * refuses to start and every invocation fails, or, for a function with the telemetry extension,
 * the extension ships nothing (for a hand-made stack, the first sign would be missing logs). The
 * lambda-promtail program validates its stack config the same way.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { EVERY_KIND, parseSettings, SHIPPER_FUNCTION } from "../lib/environment";
import { functionRef } from "../lib/messages";
import { validateShipperFunction } from "../lib/validation";

export const validShipperSettings: ResourceValidationPolicy = {
  name: "valid-shipper-settings",
  description: "The shipper's environment variables must pass lambda-promtail's validation, or the function fails at every cold start (the telemetry extension ships nothing).",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: validateShipperFunction(EVERY_KIND, (fn, _args, report) => {
    // Values unknown at preview are not judged now (placeholders stand in); `pulumi up` checks them.
    const parsed = parseSettings(fn.env, []);
    if (parsed.ok) return;
    const outcome = fn.env.kind === SHIPPER_FUNCTION
      ? "would fail at every cold start"
      : "would ship nothing (at every cold start the extension logs a configuration error and stays idle)";
    report(`${functionRef(fn.name, fn.env.kind)} ${outcome}: ${parsed.problem}.`);
  }),
};
