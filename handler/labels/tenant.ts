/**
 * Promtail's reserved `__tenant_id__` label: the tenant (X-Scope-OrgID) an entry is pushed
 * under. Whatever sets it (EXTRA_LABELS, a relabel rule, the `tenant` stage, any stage that
 * writes labels) writes the same label, so the value it holds when the entry leaves the last
 * stage wins; an entry without it goes under TENANT_ID (or none). The label is never sent to
 * Loki as a stream label (formatLabels leaves it out).
 */
import type { Labels } from "../types";
import { TENANT_LABEL } from "./names";
import type { RelabelRule } from "./relabel";

export { TENANT_LABEL };

/** Counted (stageDropped) for an entry whose tenant is not one Loki accepts. */
export const INVALID_TENANT = "invalid_tenant";

const TENANT_ID_CHARACTERS = /^[A-Za-z0-9!\-_.*'()]{1,150}$/;

/**
 * Loki's tenant id rules (dskit's tenant.ValidTenantID, which Loki's push handler applies to
 * X-Scope-OrgID): 1 to 150 characters among letters, digits and `! - _ . * ' ( )`, and not "."
 * or "..". Any other character ('|', which separates tenants, a space, '/', ':', '@', non-ASCII)
 * gets a 400 for the whole push with nothing stored, which the shipper would take for a push
 * whose valid entries were stored: such a tenant must never be sent.
 */
export function isValidTenantId(id: string): boolean {
  return TENANT_ID_CHARACTERS.test(id) && id !== "." && id !== "..";
}

/** The accepted form of a tenant id, for configuration errors and the settings reference. */
export const TENANT_ID_FORM = "a Loki tenant id: 1 to 150 letters, digits and ! - _ . * ' ( ), not \".\" or \"..\"";

/**
 * The tenant a label set picks: undefined without a (non-empty) `__tenant_id__` (TENANT_ID
 * then applies), null when its value is not a tenant id Loki accepts: pushing it would fail
 * the whole push, and sending the entry to another tenant would leak it, so it is dropped.
 */
export function tenantOf(labels: Readonly<Labels>): string | undefined | null {
  if (!Object.hasOwn(labels, TENANT_LABEL)) return undefined;
  const tenant = labels[TENANT_LABEL];
  if (tenant === "") return undefined;
  return isValidTenantId(tenant) ? tenant : null;
}

/** Whether a label set has a label Loki would store: `__tenant_id__` alone makes an empty stream. */
export function hasStreamLabels(labels: Readonly<Labels>): boolean {
  for (const name in labels) if (name !== TENANT_LABEL) return true;
  return false;
}

/** Relabel actions that write the label `target_label` names. */
const WRITES_TARGET = new Set(["replace", "lowercase", "uppercase", "hashmod"]);

/**
 * Whether EXTRA_LABELS or a relabel rule may give entries a `__tenant_id__` (an upper bound:
 * a `labelmap`, or a `target_label` built from `$1`, may). The shipper then treats a refusal
 * as concerning that tenant only, as for the tenant stage.
 */
export function labelsMaySetTenant(extraLabels: Readonly<Labels>, rules: readonly RelabelRule[]): boolean {
  if (Object.hasOwn(extraLabels, TENANT_LABEL)) return true;
  return rules.some((rule) => rule.action === "labelmap" || (WRITES_TARGET.has(rule.action) && (rule.targetLabel === TENANT_LABEL || rule.targetLabel.includes("$"))));
}
