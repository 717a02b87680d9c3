/**
 * A plain http:// WRITE_ADDRESS to a host reachable over the internet: logs and credentials
 * cross the internet in clear text. Loopback, private and link-local addresses, single-label
 * names and configured private DNS suffixes are accepted (an in-VPC Loki or Alloy).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { classifyWriteAddress, DEFAULT_PRIVATE_HOST_SUFFIXES } from "../analysis/write-address";
import { EVERY_KIND, knownSetting } from "../lib/environment";
import { functionRef, setting } from "../lib/messages";
import { configOf } from "../lib/policy-config";
import { validateShipperFunction } from "../lib/validation";

export interface PlaintextWriteAddressConfig {
  privateHostSuffixes: string[];
}

const DEFAULTS: PlaintextWriteAddressConfig = { privateHostSuffixes: [...DEFAULT_PRIVATE_HOST_SUFFIXES] };

export const plaintextWriteAddress: ResourceValidationPolicy = {
  name: "plaintext-write-address",
  description: "WRITE_ADDRESS must use https:// unless the Loki host is private (loopback, private or link-local address, or a private DNS name).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      privateHostSuffixes: {
        type: "array",
        items: { type: "string" },
        default: [...DEFAULT_PRIVATE_HOST_SUFFIXES],
        description: "DNS suffixes that only resolve inside your network (e.g. a Route 53 private zone): http:// to them is accepted.",
      },
    },
  },
  validateResource: validateShipperFunction(EVERY_KIND, (fn, args, report) => {
    const exposure = classifyWriteAddress(knownSetting(fn.env, "WRITE_ADDRESS"), configOf(args, DEFAULTS).privateHostSuffixes);
    if (exposure.kind !== "public-http") return;
    report(
      `${setting("WRITE_ADDRESS", fn.env.kind)} on ${functionRef(fn.name, fn.env.kind)} is plain http:// to ${exposure.host}, a host that is not private: every log line, ` +
        `and the basic-auth password or bearer token, would cross the network in clear text. ` +
        `Fix: use https:// (Grafana Cloud and most Loki gateways serve it); if ${exposure.host} only resolves inside your network, add its DNS suffix to this policy's privateHostSuffixes.`,
    );
  }),
};
