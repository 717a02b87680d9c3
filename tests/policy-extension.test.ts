/**
 * The pack on functions carrying the telemetry extension layer: the extension runs the shipper's
 * pipeline with the shipper's settings prefixed LOKI_, so the cardinality, security and validity
 * policies judge those settings as they judge the shipper's (the extension's own validator and
 * messages, the extension's own labels), while a function without LOKI_WRITE_ADDRESS is left
 * alone and the shipper-only delivery policies never judge the user's function.
 */
import { expect } from "chai";
import { parseExtensionConfig } from "../extension/config";
import { policies } from "../policy/policies";
import { fake, FakeResource, runPack, UNKNOWN, urnOf } from "./support/policy-harness";

const FN = "aws:lambda/function:Function";
const EXT = 'the telemetry extension of function "app"';
const appUrn = urnOf(FN, "app");

/** Every violation as `policy level`, sorted. */
async function verdicts(resources: FakeResource[]): Promise<string[]> {
  const result = await runPack(policies, resources);
  expect(result.previewNotes).to.deep.equal([]);
  return result.violations.map((v) => `${v.policy} ${v.level}`).sort();
}

const labelList = (n: number): string => Array.from({ length: n }, (_, i) => `l${i},v${i}`).join(",");

describe("policy pack on functions carrying the telemetry extension", () => {
  const cases: { name: string; env: Record<string, string>; expected: string[]; message?: string }[] = [
    { name: "only LOKI_WRITE_ADDRESS (https)", env: {}, expected: [] },
    { name: "a sound configuration", env: { LOKI_EXTRA_LABELS: "team,payments", LOKI_STRUCTURED_METADATA: "lambda_request_id,level", LOKI_BATCH_SIZE: "262144" }, expected: [] },
    { name: "LOKI_SKIP_TLS_VERIFY=true", env: { LOKI_SKIP_TLS_VERIFY: "true" }, expected: ["skip-tls-verify mandatory"], message: `LOKI_SKIP_TLS_VERIFY is true on ${EXT}` },
    { name: "plain http to a public Loki", env: { LOKI_WRITE_ADDRESS: "http://loki.example.com/loki/api/v1/push" }, expected: ["plaintext-write-address mandatory"], message: `LOKI_WRITE_ADDRESS on ${EXT} is plain http:// to loki.example.com` },
    { name: "plain http to a private Loki", env: { LOKI_WRITE_ADDRESS: "http://10.0.0.7:3100/loki/api/v1/push" }, expected: [] },
    { name: "plaintext password", env: { LOKI_USERNAME: "1234", LOKI_PASSWORD: "glc_secret" }, expected: ["plaintext-credentials advisory"], message: `LOKI_PASSWORD on ${EXT} is a plaintext value` },
    { name: "password as a secret's ARN", env: { LOKI_USERNAME: "1234", LOKI_PASSWORD: "arn:aws:secretsmanager:us-east-1:123456789012:secret:loki-AbCdEf" }, expected: [] },
    { name: "tiny LOKI_BATCH_SIZE", env: { LOKI_BATCH_SIZE: "100" }, expected: ["batch-size-bounds advisory"], message: `LOKI_BATCH_SIZE on ${EXT} is 100 bytes` },
    {
      name: "a labelmap of every __aws_* label",
      env: { LOKI_RELABEL_CONFIGS: '[{"action":"labelmap","regex":"__aws_(.*)"}]' },
      expected: ["relabel-high-cardinality mandatory"],
      message: `LOKI_RELABEL_CONFIGS rule 0 on ${EXT} (labelmap, regex "__aws_(.*)") copies every __aws_* label`,
    },
    // The extension's 5 labels + service_name + 9 extra labels = 15, Loki's default limit.
    { name: "9 extra labels: at the limit", env: { LOKI_EXTRA_LABELS: labelList(9) }, expected: [] },
    {
      name: "10 extra labels: one over the limit",
      env: { LOKI_EXTRA_LABELS: labelList(10) },
      expected: ["label-limit mandatory"],
      message: `Entries of ${EXT} from "telemetry of function app" would carry 16 label names (__aws_cloudwatch_log_group, __aws_cloudwatch_owner, __aws_lambda_function_name, __aws_lambda_function_version, __aws_log_type, __extra_l0`,
    },
    { name: "10 extra labels, two dropped", env: { LOKI_EXTRA_LABELS: labelList(10), LOKI_DROP_LABELS: "__aws_lambda_function_version,__aws_cloudwatch_owner" }, expected: [] },
    {
      name: "an extra label unique per deployment",
      env: { LOKI_EXTRA_LABELS: "build,9fceb02d0ae598e95dc970b74767f19372d61af8", LOKI_OMIT_EXTRA_LABELS_PREFIX: "true" },
      expected: ["extra-labels-per-deployment advisory"],
      message: `LOKI_EXTRA_LABELS on ${EXT} sets build="9fceb02d0ae598e95dc970b74767f19372d61af8", which looks like a git commit SHA`,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.expected.length === 0 ? "passes" : c.expected.join(", ")}`, async () => {
      const result = await runPack(policies, [fake.withExtension("app", c.env)]);
      expect(result.violations.map((v) => `${v.policy} ${v.level}`).sort()).to.deep.equal(c.expected);
      for (const v of result.violations) expect(v.urn).to.equal(appUrn);
      if (c.message) expect(result.violations[0].message).to.contain(c.message).and.not.contain("pulumi config set");
    });
  }

  describe("valid-shipper-settings: the extension's own validator and its cold-start message", () => {
    const invalid: { name: string; env: Record<string, string> }[] = [
      { name: "LOKI_BATCH_SIZE not a number", env: { LOKI_BATCH_SIZE: "1MB" } },
      { name: "LOKI_KEEP_STREAM, which the extension refuses", env: { LOKI_KEEP_STREAM: "true" } },
      { name: "LOKI_PRINT_LOG_LINE, which the extension refuses", env: { LOKI_PRINT_LOG_LINE: "true" } },
      { name: "LOKI_TAG_LABELS, which the extension refuses", env: { LOKI_TAG_LABELS: "team" } },
      { name: "a metadata field the extension never sets", env: { LOKI_STRUCTURED_METADATA: "cloudwatch_log_stream" } },
      { name: "LOKI_USERNAME without a password", env: { LOKI_USERNAME: "1234" } },
      { name: "LOKI_RELABEL_CONFIGS not JSON", env: { LOKI_RELABEL_CONFIGS: "[{" } },
      { name: "a relabel regex RE2 refuses", env: { LOKI_RELABEL_CONFIGS: '[{"source_labels":["__aws_log_type"],"regex":"(?<=a)b","target_label":"x"}]' } },
      { name: "an unknown stage", env: { LOKI_STAGE_CONFIGS: '[{"jsonn":{"expressions":{"level":""}}}]' } },
      { name: "an extension setting out of range", env: { LOKI_FLUSH_STRATEGY: "sometimes" } },
      { name: "LOKI_WRITE_ADDRESS not a URL", env: { LOKI_WRITE_ADDRESS: "loki:3100" } },
    ];
    for (const c of invalid) {
      it(c.name, async () => {
        const fn = fake.withExtension("app", c.env);
        let coldStart: Error | undefined;
        try {
          parseExtensionConfig(fn.inputs.environment.variables);
        } catch (err) {
          coldStart = err as Error;
        }
        expect(coldStart, "the extension itself refuses these settings").to.be.instanceOf(Error);
        const result = await runPack(policies, [fn]);
        expect(result.of("valid-shipper-settings").map((v) => v.message)).to.deep.equal([
          `${EXT} would ship nothing (at every cold start the extension logs a configuration error and stays idle): ${coldStart?.message}.`,
        ]);
        expect(result.of("valid-shipper-settings")[0]).to.include({ level: "mandatory", urn: appUrn });
        // The cardinality policies cannot judge settings the extension refuses, and say nothing.
        expect(result.mandatory().map((v) => v.policy)).to.deep.equal(["valid-shipper-settings"]);
      });
    }
  });

  it("leaves functions without LOKI_WRITE_ADDRESS alone, whatever other LOKI_ variables they have", async () => {
    const plain = fake.function("plain", {
      environment: { variables: { LOKI_SKIP_TLS_VERIFY: "true", LOKI_BATCH_SIZE: "1", LOKI_PASSWORD: "hunter2", LOKI_KEEP_STREAM: "yes", SKIP_TLS_VERIFY: "true" } },
    });
    expect(await verdicts([plain])).to.deep.equal([]);
  });

  it("does not judge the user's function by the shipper's delivery policies", async () => {
    // The user's own queue feeds the user's function: not the shipper's business.
    const app = fake.withExtension("app", {}, { timeout: 900 });
    const queue = fake.queue("orders");
    expect(await verdicts([app, queue, fake.mapping("orders-to-app", queue, app)])).to.deep.equal([]);
  });

  it("judges a shipper that also carries the extension once per set of settings", async () => {
    const both = fake.withExtension("app", { WRITE_ADDRESS: "https://loki.example.com/loki/api/v1/push", SKIP_TLS_VERIFY: "true", LOKI_SKIP_TLS_VERIFY: "true" });
    const result = await runPack(policies, [both, fake.logGroup("/aws/lambda/app", { retentionInDays: 7 })]);
    expect(result.messages("skip-tls-verify").map((m) => m.slice(0, m.indexOf(":")))).to.deep.equal([
      'SKIP_TLS_VERIFY (stack config skipTlsVerify) is true on function "app"',
      `LOKI_SKIP_TLS_VERIFY is true on ${EXT}`,
    ]);
  });

  it("uses the function's name, account and LOKI_LOG_GROUP_NAME for the extension's labels", async () => {
    // Entries are kept only when the log group and owner are the expected ones; `variant` comes
    // from the function's name. What reaches Loki is read through label-limit with a limit of 1.
    const rules = JSON.stringify([
      { action: "keep", source_labels: ["__aws_cloudwatch_log_group", "__aws_cloudwatch_owner", "__aws_log_type"], regex: "/custom/orders;123456789012;telemetry" },
      { source_labels: ["__aws_cloudwatch_log_group"], target_label: "group" },
      { source_labels: ["__aws_lambda_function_name"], regex: "orders-(.*)", target_label: "variant" },
      { action: "labelkeep", regex: "group|variant" },
    ]);
    const fn = fake.withExtension("app", { LOKI_RELABEL_CONFIGS: rules, LOKI_LOG_GROUP_NAME: "/custom/orders" }, { name: "orders-eu" });
    const result = await runPack(policies, [fn], { "label-limit": { maxLabelNames: 1, lokiAddsServiceName: false } });
    expect(result.messages("label-limit")).to.have.length(1);
    expect(result.messages("label-limit")[0]).to.contain('from "telemetry of function orders-eu"').and.contain("would carry 2 label names (group, variant)");
  });

  it("notes at preview that an unknown LOKI_SKIP_TLS_VERIFY cannot be checked yet, and passes an unknown password", async () => {
    const result = await runPack(policies, [fake.withExtension("app", { LOKI_SKIP_TLS_VERIFY: UNKNOWN, LOKI_USERNAME: "1234", LOKI_PASSWORD: UNKNOWN })]);
    expect(result.violations).to.deep.equal([]);
    expect(result.previewNotes.map((n) => n.message)).to.deep.equal([
      "can't run policy 'skip-tls-verify' during preview: string value at .environment.variables.LOKI_SKIP_TLS_VERIFY can't be known during preview",
    ]);
  });
});
