/** SKIP_TLS_VERIFY=true: logs and credentials go to whoever answers for the Loki host name. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { booleanSetting, EVERY_KIND } from "../lib/environment";
import { assignment, functionRef, setting } from "../lib/messages";
import { validateShipperFunction } from "../lib/validation";

export const skipTlsVerify: ResourceValidationPolicy = {
  name: "skip-tls-verify",
  description: "SKIP_TLS_VERIFY must not be true: the shipper would send logs and credentials to any server presenting any certificate.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: validateShipperFunction(EVERY_KIND, (fn, _args, report) => {
    if (!booleanSetting(fn.env, "SKIP_TLS_VERIFY")) return;
    report(
      `${setting("SKIP_TLS_VERIFY", fn.env.kind)} is true on ${functionRef(fn.name, fn.env.kind)}: the shipper accepts any certificate for the Loki endpoint, so anyone who can intercept or redirect the traffic ` +
        `(DNS, a proxy, a compromised network path) receives every log line and the Loki credentials. ` +
        `Fix: ${assignment("SKIP_TLS_VERIFY", "false", fn.env.kind)} and give Loki a certificate from a public CA, or a private CA the function trusts ` +
        `(NODE_EXTRA_CA_CERTS pointing to a bundle in the image).`,
    );
  }),
};

