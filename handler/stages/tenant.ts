/**
 * The `tenant` stage (Promtail's): sets the tenant (`X-Scope-OrgID`) the entry is pushed under,
 * from exactly one of `source` (an extracted value), `label` (one of the entry's labels) or
 * `value` (fixed). As in Promtail it writes the reserved `__tenant_id__` label, which is what
 * picks the tenant (handler/labels/tenant.ts), so a relabel rule or a later stage that writes
 * that label is seen the same way. A missing or empty source or label leaves the tenant as it
 * was: entries without `__tenant_id__` are pushed under TENANT_ID (or none).
 *
 * The shipper groups each invocation's entries by tenant and sends one push per tenant
 * (handler/pipeline.ts); a record succeeds only when every push holding its entries did.
 * A value that is not a tenant id Loki accepts (a character other than letters, digits and
 * `! - _ . * ' ( )`, more than 150 characters, "." or "..") gets its whole push a 400 with
 * nothing stored: the entry is dropped and counted as `invalid_tenant` rather than sent to
 * another tenant.
 */
import { INVALID_TENANT, isValidTenantId, TENANT_ID_FORM, TENANT_LABEL } from "../labels/tenant";
import { StageOptions } from "./stage-options";
import { setLabel, type Stage, type StageFactory } from "./types";
import { valueToString } from "./values";

const TENANT_FORM = "exactly one of source (an extracted name), label (a label name) or value (a tenant id)";

export const tenantStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["source", "label", "value"]);
  const source = options.string("source", "the name of an extracted value holding the tenant id");
  const label = options.string("label", "the name of a label holding the tenant id");
  const value = options.string("value", TENANT_ID_FORM);
  const given = [["source", source], ["label", label], ["value", value]].filter(([, v]) => v !== undefined && v !== "");
  if (given.length === 0) throw options.fail("source", "is not set, and neither is label or value", TENANT_FORM);
  if (given.length > 1) throw options.fail(given[1][0] as string, `cannot be set together with ${given[0][0]}`, TENANT_FORM);
  if (value !== undefined && value !== "" && !isValidTenantId(value)) throw options.fail("value", `${JSON.stringify(value)} is not a valid tenant id`, TENANT_ID_FORM);
  const invalid = { drop: INVALID_TENANT };
  return {
    name: "tenant",
    process(entry, ctx) {
      let tenant: string | undefined;
      if (value !== undefined && value !== "") tenant = value;
      else if (source !== undefined && source !== "") tenant = Object.hasOwn(entry.extracted, source) ? valueToString(entry.extracted[source]) : undefined;
      else if (label !== undefined && Object.hasOwn(entry.labels, label)) tenant = entry.labels[label];
      if (tenant === undefined || tenant === "") return undefined;
      if (!isValidTenantId(tenant)) {
        ctx.log.debug("tenant stage: not a valid tenant id; the entry is dropped", { tenant: tenant.slice(0, 200) });
        return invalid;
      }
      setLabel(entry, TENANT_LABEL, tenant);
      return undefined;
    },
  } satisfies Stage;
};
