/**
 * BATCH_SIZE (bytes of log lines per push) within bounds that suit Loki: tiny batches mean a
 * request per few lines; huge ones run into Loki's gRPC message limit between distributors and
 * ingesters (4 MiB by default) and proxies' body limits.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { EVERY_KIND, parseSettings, variable } from "../lib/environment";
import { functionRef, setting } from "../lib/messages";
import { configOf } from "../lib/policy-config";
import { validateShipperFunction } from "../lib/validation";

export interface BatchSizeConfig {
  minBytes: number;
  maxBytes: number;
}

const DEFAULTS: BatchSizeConfig = { minBytes: 4 * 1024, maxBytes: 4 * 1024 * 1024 };

export const batchSizeBounds: ResourceValidationPolicy = {
  name: "batch-size-bounds",
  description: "BATCH_SIZE should be between 4 KiB and 4 MiB (configurable): smaller floods Loki with requests, larger exceeds its message limits.",
  enforcementLevel: "advisory",
  severity: "medium",
  configSchema: {
    properties: {
      minBytes: { type: "integer", minimum: 1, default: DEFAULTS.minBytes, description: "Smallest acceptable BATCH_SIZE, in bytes." },
      maxBytes: { type: "integer", minimum: 1, default: DEFAULTS.maxBytes, description: "Largest acceptable BATCH_SIZE, in bytes (Loki's grpc_server_max_recv_msg_size is 4 MiB by default)." },
    },
  },
  validateResource: validateShipperFunction(EVERY_KIND, (fn, args, report) => {
    const parsed = parseSettings(fn.env, ["BATCH_SIZE"]);
    if (!parsed.ok) return; // valid-shipper-settings reports it
    const { batchSize } = parsed.config;
    const kind = fn.env.kind;
    const { minBytes, maxBytes } = configOf(args, DEFAULTS);
    if (batchSize < minBytes) {
      report(
        `${setting("BATCH_SIZE", kind)} on ${functionRef(fn.name, kind)} is ${batchSize} bytes, below ${minBytes}: the shipper would push every few lines, multiplying requests to Loki ` +
          `(and rate-limit rejections) and the function's run time. Fix: leave ${variable(kind, "BATCH_SIZE")} unset (1048576) or set it between ${minBytes} and ${maxBytes}.`,
      );
    } else if (batchSize > maxBytes) {
      report(
        `${setting("BATCH_SIZE", kind)} on ${functionRef(fn.name, kind)} is ${batchSize} bytes, above ${maxBytes}: a push that large exceeds Loki's default gRPC message limit between ` +
          `distributor and ingesters (grpc_server_max_recv_msg_size, 4 MiB) and common proxy body limits, so pushes fail or are split and retried. ` +
          `Fix: leave ${variable(kind, "BATCH_SIZE")} unset (1048576) or set it between ${minBytes} and ${maxBytes}; raise this policy's maxBytes if your Loki accepts larger messages.`,
      );
    }
  }),
};
