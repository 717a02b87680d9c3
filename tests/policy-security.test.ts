/**
 * The security and cost policies on hand-built resources: SKIP_TLS_VERIFY, plain-HTTP write
 * addresses, plaintext credentials, PRINT_LOG_LINE, the function's log group retention, and
 * the validity of the shipper's settings.
 */
import { expect } from "chai";
import { logGroupRetention } from "../policy/policies/log-group-retention";
import { plaintextCredentials } from "../policy/policies/plaintext-credentials";
import { plaintextWriteAddress } from "../policy/policies/plaintext-write-address";
import { printLogLine } from "../policy/policies/print-log-line";
import { skipTlsVerify } from "../policy/policies/skip-tls-verify";
import { validShipperSettings } from "../policy/policies/valid-shipper-settings";
import { fake, runPolicy, UNKNOWN, urnOf } from "./support/policy-harness";

const FN = "aws:lambda/function:Function";
const shipper = (env: Record<string, string>) => [fake.shipper("shipper", env)];

describe("policy skip-tls-verify", () => {
  it("passes when unset or false", async () => {
    expect((await runPolicy(skipTlsVerify, shipper({}))).violations).to.deep.equal([]);
    expect((await runPolicy(skipTlsVerify, shipper({ SKIP_TLS_VERIFY: "false" }))).violations).to.deep.equal([]);
  });

  it("fails true in any case, as mandatory, on the function", async () => {
    const { violations } = await runPolicy(skipTlsVerify, shipper({ SKIP_TLS_VERIFY: "TRUE" }));
    expect(violations).to.have.length(1);
    expect(violations[0]).to.include({ level: "mandatory", urn: urnOf(FN, "shipper") });
    expect(violations[0].message).to.contain('SKIP_TLS_VERIFY (stack config skipTlsVerify) is true on function "shipper"').and.contain("pulumi config set skipTlsVerify false");
  });

  it("ignores other functions", async () => {
    const other = fake.function("other", { environment: { variables: { SKIP_TLS_VERIFY: "true" } } });
    expect((await runPolicy(skipTlsVerify, [other])).violations).to.deep.equal([]);
  });
});

describe("policy plaintext-write-address", () => {
  it("passes https and plain http to private hosts", async () => {
    for (const address of ["https://logs-prod-eu-west-0.grafana.net/loki/api/v1/push", "http://10.0.3.7:3100/loki/api/v1/push", "http://loki.monitoring.svc.cluster.local:3100/loki/api/v1/push", "http://localhost:3100/loki/api/v1/push"]) {
      expect((await runPolicy(plaintextWriteAddress, shipper({ WRITE_ADDRESS: address }))).violations, address).to.deep.equal([]);
    }
  });

  it("fails plain http to a public host, naming it and the privateHostSuffixes escape", async () => {
    const { violations } = await runPolicy(plaintextWriteAddress, shipper({ WRITE_ADDRESS: "http://loki.example.com/loki/api/v1/push" }));
    expect(violations[0].level).to.equal("mandatory");
    expect(violations[0].message).to.contain("is plain http:// to loki.example.com").and.contain("privateHostSuffixes");
    const config = { "plaintext-write-address": { privateHostSuffixes: ["example.com"] } };
    expect((await runPolicy(plaintextWriteAddress, shipper({ WRITE_ADDRESS: "http://loki.example.com/x" }), config)).violations).to.deep.equal([]);
  });

  it("notes at preview that an unknown address cannot be checked yet", async () => {
    const result = await runPolicy(plaintextWriteAddress, shipper({ WRITE_ADDRESS: UNKNOWN }));
    expect(result.violations).to.deep.equal([]);
    expect(result.previewNotes.map((n) => n.message)).to.deep.equal(["can't run policy 'plaintext-write-address' during preview: string value at .environment.variables.WRITE_ADDRESS can't be known during preview"]);
  });
});

describe("policy plaintext-credentials", () => {
  const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:loki-AbCdEf";

  it("passes secret ARNs, SSM parameters and values computed at preview", async () => {
    expect((await runPolicy(plaintextCredentials, shipper({ USERNAME: "123456", PASSWORD: secret }))).violations).to.deep.equal([]);
    expect((await runPolicy(plaintextCredentials, shipper({ BEARER_TOKEN: "arn:aws:ssm:us-east-1:123456789012:parameter/loki/token" }))).violations).to.deep.equal([]);
    expect((await runPolicy(plaintextCredentials, shipper({ USERNAME: "123456", PASSWORD: UNKNOWN }))).violations).to.deep.equal([]);
  });

  it("advises against plaintext PASSWORD and BEARER_TOKEN, not USERNAME", async () => {
    const basic = await runPolicy(plaintextCredentials, shipper({ USERNAME: "123456", PASSWORD: "glc_secret" }));
    expect(basic.violations).to.have.length(1);
    expect(basic.violations[0].level).to.equal("advisory");
    expect(basic.violations[0].message).to.contain("PASSWORD (stack config password)").and.contain("pulumi config set --secret password").and.not.contain("glc_secret");
    expect((await runPolicy(plaintextCredentials, shipper({ BEARER_TOKEN: "t0ken" }))).messages()[0]).to.contain("BEARER_TOKEN (stack config bearerToken)");
  });
});

describe("policy print-log-line", () => {
  it("passes false and advises against true", async () => {
    expect((await runPolicy(printLogLine, shipper({ PRINT_LOG_LINE: "false" }))).violations).to.deep.equal([]);
    const { violations } = await runPolicy(printLogLine, shipper({ PRINT_LOG_LINE: "true" }));
    expect(violations[0].level).to.equal("advisory");
    expect(violations[0].message).to.contain("PRINT_LOG_LINE (stack config printLogLine) is true").and.contain("a second time");
  });
});

describe("policy log-group-retention", () => {
  const fn = fake.shipper("shipper", {}, { name: "shipper" });

  it("passes a declared log group with retention, found by name or through loggingConfig", async () => {
    expect((await runPolicy(logGroupRetention, [fn, fake.logGroup("/aws/lambda/shipper", { retentionInDays: 14 })])).violations).to.deep.equal([]);
    const custom = fake.shipper("custom", {}, { name: "custom", loggingConfig: { logGroup: UNKNOWN, logFormat: "Text" } });
    const group = fake.logGroup("/shippers/custom", { retentionInDays: 30 });
    custom.dependsOn = { loggingConfig: [group.name] };
    expect((await runPolicy(logGroupRetention, [custom, group])).violations).to.deep.equal([]);
  });

  it("advises on a declared log group without retention, on the log group", async () => {
    const group = fake.logGroup("/aws/lambda/shipper", { retentionInDays: 0 });
    const { violations } = await runPolicy(logGroupRetention, [fn, group]);
    expect(violations[0]).to.include({ level: "advisory", urn: urnOf("aws:cloudwatch/logGroup:LogGroup", group.name) });
    expect(violations[0].message).to.contain("has no retention period").and.contain("logRetentionDays");
  });

  it("advises when the stack does not declare the function's log group", async () => {
    expect((await runPolicy(logGroupRetention, [fn])).messages()[0]).to.contain("writes to log group /aws/lambda/shipper, which this stack does not declare");
  });

  it("says nothing while the function's name or the log group's is unknown", async () => {
    expect((await runPolicy(logGroupRetention, [fake.shipper("shipper", {}, { name: UNKNOWN })])).violations).to.deep.equal([]);
    expect((await runPolicy(logGroupRetention, [fn, fake.logGroup(UNKNOWN)])).violations).to.deep.equal([]);
  });
});

describe("policy valid-shipper-settings", () => {
  it("passes a valid environment, with unknown credentials standing in for secret ARNs", async () => {
    expect((await runPolicy(validShipperSettings, shipper({ USERNAME: "1", PASSWORD: UNKNOWN, KEEP_STREAM: "false" }))).violations).to.deep.equal([]);
  });

  it("fails what the function would reject at cold start, with the handler's own message", async () => {
    const { violations } = await runPolicy(validShipperSettings, shipper({ RELABEL_CONFIGS: '[{"action":"replace"}]' }));
    expect(violations[0].level).to.equal("mandatory");
    expect(violations[0].message).to.contain('function "shipper" would fail at every cold start: RELABEL_CONFIGS: rule 0 (action "replace"): target_label is required');
    expect((await runPolicy(validShipperSettings, shipper({ USERNAME: "only-user" }))).messages()[0]).to.contain("PASSWORD: must be set because USERNAME is set");
  });
});
