/**
 * The shipper's own log group must expire its logs: by default CloudWatch keeps them forever,
 * and a log group Lambda creates on first run has no retention at all.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { functionRef } from "../lib/messages";
import { TYPES } from "../lib/resource-types";
import { knownString, Shipper, StackModel } from "../lib/stack-model";
import { SHIPPER_ONLY } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";
import { isUnknown, readNumber, readString } from "../lib/unknowns";

export const logGroupRetention: StackValidationPolicy = {
  name: "log-group-retention",
  description: "The shipper's own log group should set a retention period (retentionInDays), or CloudWatch keeps its logs forever.",
  enforcementLevel: "advisory",
  severity: "low",
  validateStack: validateEachShipper(SHIPPER_ONLY, (shipper, stack, _args, report) => {
    const found = functionLogGroup(shipper, stack);
    if (found.kind === "unknown") return;
    if (found.kind === "absent") {
      report(
        `${functionRef(shipper.name)} writes to log group ${found.name}, which this stack does not declare: Lambda creates it on the first run with no retention, ` +
          `so its logs are kept (and billed) forever. Fix: declare the log group with retentionInDays (e.g. 14) before the function, ` +
          `or set loggingConfig.logGroup to one that has a retention period.`,
      );
      return;
    }
    const retention = readNumber(found.logGroup.props, ["retentionInDays"]);
    if (isUnknown(retention) || (retention !== undefined && retention > 0)) return;
    report(
      `Log group "${found.logGroup.name}" of ${functionRef(shipper.name)} has no retention period (retentionInDays unset or 0): CloudWatch keeps the shipper's logs, and bills for them, forever. ` +
        `Fix: set retentionInDays (e.g. 14; \`pulumi config set logRetentionDays 14\` in the lambda-promtail program).`,
      found.logGroup.urn,
    );
  }),
};

type FoundLogGroup = { kind: "declared"; logGroup: PolicyResource } | { kind: "absent"; name: string } | { kind: "unknown" };

/** The log group the function writes to: loggingConfig.logGroup, else /aws/lambda/<function name>. */
function functionLogGroup(shipper: Shipper, stack: StackModel): FoundLogGroup {
  const props = shipper.resource.props;
  const configured = readString(props, ["loggingConfig", "logGroup"]);
  const functionName = readString(props, ["name"]);
  const byDependency = (shipper.resource.propertyDependencies?.loggingConfig ?? []).find((d) => d.type === TYPES.logGroup);
  if (byDependency) return { kind: "declared", logGroup: byDependency };
  if (isUnknown(configured)) return { kind: "unknown" };
  const name = configured || (isUnknown(functionName) ? undefined : functionName && `/aws/lambda/${functionName}`);
  if (!name) return { kind: "unknown" };
  const declared = stack.ofType(TYPES.logGroup).find((g) => knownString(readString(g.props, ["name"])) === name);
  // A log group whose name is still unknown may be this one: do not claim it is missing.
  if (!declared && stack.ofType(TYPES.logGroup).some((g) => isUnknown(readString(g.props, ["name"])))) return { kind: "unknown" };
  return declared ? { kind: "declared", logGroup: declared } : { kind: "absent", name };
}
