/**
 * The lambda-promtail CrossGuard policy pack: `pulumi preview --policy-pack policy`.
 * Policies live in `policies.ts` (one module each under `policies/`); see the README section "Policy pack (CrossGuard)".
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  description: "Guards lambda-promtail deployments: Loki label cardinality, delivery of failed records, and insecure or costly shipper settings.",
  // Policies set their own level; this applies to none today but to any added without one.
  enforcementLevel: "advisory",
  policies,
});
