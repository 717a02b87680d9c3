import { expect } from "chai";
import { parseShipperConfig } from "../handler/config";
import { InvocationDeadline } from "../handler/deadline";
import { cloudWatchLogsTagFetcher, LogGroupTagLabeler, logGroupArn, tagsToLabels } from "../handler/tags";
import { CloudWatchLogsServer } from "./support/cloudwatch-logs-server";
import { setEnv } from "./support/env";
import { MemoryLog } from "./support/events";

const ARN = logGroupArn("/aws/lambda/checkout", "eu-west-1", "123456789012");
const roomy = () => InvocationDeadline.in(60_000);

function rules(tagLabels: string, prefix?: string) {
  const c = parseShipperConfig({ WRITE_ADDRESS: "http://127.0.0.1:1/", TAG_LABELS: tagLabels, ...(prefix === undefined ? {} : { TAG_LABELS_PREFIX: prefix }) });
  return { rules: c.tagLabels, prefix: c.tagLabelsPrefix };
}

describe("tag labels: turning tags into labels", () => {
  it("builds log group ARNs in the region's partition", () => {
    expect(ARN).to.equal("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/checkout");
    expect(logGroupArn("g", "cn-north-1", "1")).to.match(/^arn:aws-cn:/);
    expect(logGroupArn("g", "us-gov-west-1", "1")).to.match(/^arn:aws-us-gov:/);
  });

  it("keeps only the configured tag keys, sanitized and prefixed with __aws_tag_ by default", () => {
    const { rules: r, prefix } = rules("team,team:owner,cost-center=cost_center");
    expect(tagsToLabels({ team: "payments", "team:owner": "alice", "cost-center": "42", secret: "x" }, r, prefix)).to.deep.equal({
      __aws_tag_team: "payments",
      __aws_tag_team_owner: "alice",
      __aws_tag_cost_center: "42",
    });
  });

  it("accepts patterns over tag keys and an empty prefix", () => {
    const { rules: r, prefix } = rules("/^app[.]/", "");
    expect(tagsToLabels({ "app.name": "checkout", "app.tier": "web", env: "prod" }, r, prefix)).to.deep.equal({ app_name: "checkout", app_tier: "web" });
  });

  it("reads patterns in Go RE2 syntax, matched anywhere in the key, in linear time", () => {
    const { rules: r, prefix } = rules("/(?i)^TEAM(?P<rest>.*)/,/(a+)+$/", "");
    expect(tagsToLabels({ "Team-Owner": "alice", team: "payments", other: "x" }, r, prefix)).to.deep.equal({ Team_Owner: "alice", team: "payments" });
    const hostile = "a".repeat(100_000) + "b";
    expect(tagsToLabels({ [hostile]: "v" }, r, prefix)).to.deep.equal({});
  });

  it("rejects bad TAG_LABELS and TAG_LABELS_PREFIX values naming the setting", () => {
    expect(() => rules("/([a-z]/")).to.throw(/^TAG_LABELS: "\/\(\[a-z\]\/" is not a valid regular expression \(missing closing \): `\(\[a-z\]`\)/);
    // RE2 syntax, as for relabel rules: no lookaround, whatever JavaScript would accept.
    expect(() => rules("/^(?!aws:)/")).to.throw(/^TAG_LABELS: .*lookahead assertions/);
    expect(() => rules("team=9lives")).to.throw(/^TAG_LABELS: "9lives"/);
    expect(() => rules("team", "bad-prefix")).to.throw(/^TAG_LABELS_PREFIX: /);
    expect(() => parseShipperConfig({ WRITE_ADDRESS: "http://127.0.0.1:1/", TAG_CACHE_TTL_SECONDS: "0" })).to.throw(/^TAG_CACHE_TTL_SECONDS: /);
  });
});

describe("tag labels: lookups through the CloudWatch Logs API", () => {
  const server = new CloudWatchLogsServer();
  let restoreEnv: () => void;

  before(async () => {
    restoreEnv = setEnv({ AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: await server.start(), AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" });
  });
  after(async () => {
    restoreEnv();
    await server.stop();
  });
  beforeEach(() => {
    server.calls.length = 0;
    server.tags.clear();
    server.failWith = undefined;
    server.delayMs = 0;
    server.hang = false;
  });

  function labeler(now: () => number, log = new MemoryLog(), ttlMs = 300_000, maxEntries?: number) {
    const { rules: r, prefix } = rules("team,service");
    return new LogGroupTagLabeler({ rules: r, prefix, ttlMs, fetch: cloudWatchLogsTagFetcher(), log, now, maxEntries });
  }

  it("reads tags with the real SDK client and caches them per log group for the TTL", async () => {
    server.tags.set(ARN, { team: "payments", service: "checkout", owner: "alice" });
    let now = 1_000;
    const tags = labeler(() => now);
    for (let i = 0; i < 50; i++) {
      expect(await tags.labelsFor("/aws/lambda/checkout", "eu-west-1", "123456789012", roomy())).to.deep.equal({ __aws_tag_team: "payments", __aws_tag_service: "checkout" });
    }
    expect(server.calls).to.deep.equal([ARN]);
    now += 300_001;
    await tags.labelsFor("/aws/lambda/checkout", "eu-west-1", "123456789012", roomy());
    expect(server.calls).to.deep.equal([ARN, ARN]);
  });

  it("coalesces concurrent lookups of one log group into one call", async () => {
    server.tags.set(ARN, { team: "payments" });
    server.delayMs = 50;
    const tags = labeler(() => 0);
    const results = await Promise.all(Array.from({ length: 20 }, () => tags.labelsFor("/aws/lambda/checkout", "eu-west-1", "123456789012", roomy())));
    expect(server.calls).to.have.length(1);
    for (const r of results) expect(r).to.deep.equal({ __aws_tag_team: "payments" });
  });

  it("degrades to no tag labels when the lookup is denied, warning once per group per TTL", async () => {
    server.failWith = { status: 400, type: "AccessDeniedException", message: "not authorized to perform: logs:ListTagsForResource" };
    const log = new MemoryLog();
    let now = 0;
    const tags = labeler(() => now, log);
    for (let i = 0; i < 10; i++) expect(await tags.labelsFor("/aws/lambda/checkout", "eu-west-1", "123456789012", roomy())).to.deep.equal({});
    expect(log.messages("warn")).to.have.length(1);
    expect(log.lines[0].attributes).to.include({ logGroupArn: ARN });
    expect(String(log.lines[0].attributes?.error)).to.match(/not authorized/);
    now += 300_001;
    await tags.labelsFor("/aws/lambda/checkout", "eu-west-1", "123456789012", roomy());
    expect(log.messages("warn")).to.have.length(2);
  });

  it("keeps the cache bounded, evicting the oldest log group", async () => {
    for (let i = 0; i < 4; i++) server.tags.set(logGroupArn(`/g/${i}`, "eu-west-1", "1"), { team: `t${i}` });
    const tags = labeler(() => 0, new MemoryLog(), 300_000, 3);
    for (let i = 0; i < 4; i++) await tags.labelsFor(`/g/${i}`, "eu-west-1", "1", roomy());
    await tags.labelsFor("/g/0", "eu-west-1", "1", roomy());
    expect(server.calls.filter((a) => a.endsWith("/g/0"))).to.have.length(2);
    await tags.labelsFor("/g/3", "eu-west-1", "1", roomy());
    expect(server.calls.filter((a) => a.endsWith("/g/3"))).to.have.length(1);
  });

  it("bounds a lookup the endpoint never answers, ships without tag labels, and skips the region's other groups for the TTL", async () => {
    server.hang = true;
    const log = new MemoryLog();
    let now = 0;
    const tags = labeler(() => now, log);
    const started = Date.now();
    expect(await tags.labelsFor("/aws/lambda/checkout", "eu-west-1", "123456789012", roomy())).to.deep.equal({});
    // Bounded by TAG_LOOKUP_CAP_MS (500 ms); the SDK alone would wait forever.
    expect(Date.now() - started).to.be.lessThan(2000);
    expect(await tags.labelsFor("/aws/lambda/other", "eu-west-1", "123456789012", roomy())).to.deep.equal({});
    expect(server.calls).to.deep.equal([ARN]);
    expect(log.messages("warn")).to.have.length(1);
    expect(String(log.lines[0].attributes?.error)).to.match(/ListTagsForResource: no answer within \d+ ms/);
    // After the TTL the region is asked again.
    server.hang = false;
    server.tags.set(logGroupArn("/aws/lambda/other", "eu-west-1", "123456789012"), { team: "search" });
    now += 300_001;
    expect(await tags.labelsFor("/aws/lambda/other", "eu-west-1", "123456789012", roomy())).to.deep.equal({ __aws_tag_team: "search" });
  });
});
