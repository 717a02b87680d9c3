/**
 * PRINT_LOG_LINE=true writes every shipped line to the function's own log group too. The shipper
 * only: the telemetry extension refuses LOKI_PRINT_LOG_LINE at init (valid-shipper-settings reports it).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { booleanSetting, SHIPPER_ONLY } from "../lib/environment";
import { functionRef, setting } from "../lib/messages";
import { validateShipperFunction } from "../lib/validation";

export const printLogLine: ResourceValidationPolicy = {
  name: "print-log-line",
  description: "PRINT_LOG_LINE should be false: printing every shipped line doubles the CloudWatch Logs ingestion bill.",
  enforcementLevel: "advisory",
  severity: "low",
  validateResource: validateShipperFunction(SHIPPER_ONLY, (fn, _args, report) => {
    if (!booleanSetting(fn.env, "PRINT_LOG_LINE")) return;
    report(
      `${setting("PRINT_LOG_LINE")} is true on ${functionRef(fn.name)}: every line shipped to Loki is also written to the function's own CloudWatch log group, ` +
        `so CloudWatch ingests (and bills) the logs a second time. Fix: set PRINT_LOG_LINE=false (\`pulumi config set printLogLine false\`); use LOG_LEVEL=debug or the replay CLI to inspect what is shipped.`,
    );
  }),
};
