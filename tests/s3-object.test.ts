/**
 * One S3 object -> entry groups, with GetObject replaced by an in-memory opener: labels from
 * the key (and from the first line for simple S3 access-log keys), group metadata, fallback
 * timestamps (event time, then LastModified, never the clock), skipped digests, early stop.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { InvocationDeadline } from "../handler/deadline";
import { localObjectGroups, objectGroups } from "../handler/sources/s3-log-object";
import { BoundedBody, getObjectError, openS3Object, resetS3Clients, S3ReadError, type ObjectOpener } from "../handler/sources/s3-object";
import { setEnv } from "./support/env";
import { BadRecordError, EntryGroup, LogEntry } from "../handler/types";
import { entriesOf, MemoryLog, failure } from "./support/events";

const fixture = (name: string): Buffer => readFileSync(join(__dirname, "fixtures", "s3", name));
/** Made per call: a deadline made when the file loads would pass while other test files run. */
const roomy = () => InvocationDeadline.in(60_000);
const VPC_KEY = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/06/01/123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d_20240601T1200Z_fe123456.log.gz";
const ALB_KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2018/07/02/123456789012_elasticloadbalancing_us-east-1_app.my-loadbalancer.50dc6c495c0c9188_20180702T2225Z_10.0.0.1_2et2e1mx.log.gz";

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function opener(bytes: Uint8Array, lastModified?: Date): ObjectOpener & { opened: number } {
  const open = Object.assign(async () => {
    open.opened++;
    return { body: once(bytes), lastModified };
  }, { opened: 0 });
  return open;
}

async function collect(groups: AsyncIterable<EntryGroup>): Promise<(Omit<EntryGroup, "entries"> & { entries: LogEntry[] })[]> {
  const out: (Omit<EntryGroup, "entries"> & { entries: LogEntry[] })[] = [];
  for await (const group of groups) out.push({ ...group, entries: await entriesOf(group) });
  return out;
}

describe("S3 object -> entry groups", () => {
  const log = new MemoryLog();

  it("one group: labels from the key, s3_bucket and s3_key as group metadata", async () => {
    const [group, ...rest] = await collect(objectGroups({ bucket: "logs", key: ALB_KEY, eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open: opener(gzipSync(fixture("alb.log"))) }));
    expect(rest).to.have.length(0);
    expect(group.labels).to.deep.equal({ __aws_log_type: "s3_lb", __aws_s3_lb: "my-loadbalancer", __aws_s3_lb_owner: "123456789012" });
    expect(group.metadata).to.deep.equal({ s3_bucket: "logs", s3_key: ALB_KEY });
    expect(group.entries).to.have.length(4);
  });

  it("falls back to the event time, then to the object's LastModified, for lines without a time", async () => {
    const bytes = gzipSync(fixture("vpc-flow-no-start.log"));
    const [byEvent] = await collect(objectGroups({ bucket: "b", key: VPC_KEY, eventTime: "2024-06-01T12:00:00.250Z" }, { want: new Set(), log, deadline: roomy(), open: opener(bytes, new Date("2020-01-01T00:00:00Z")) }));
    expect(byEvent.entries.map((e) => [e.sec, e.nsec])).to.deep.equal([[1717243200, 250_000_000]]);
    const [byObject] = await collect(objectGroups({ bucket: "b", key: VPC_KEY }, { want: new Set(), log, deadline: roomy(), open: opener(bytes, new Date("2020-01-01T00:00:01.5Z")) }));
    expect(byObject.entries.map((e) => [e.sec, e.nsec])).to.deep.equal([[1577836801, 500_000_000]]);
  });

  it("fails, rather than using the clock, when a line has no time and neither does the event", async () => {
    const err = await failure(collect(objectGroups({ bucket: "b", key: VPC_KEY }, { want: new Set(), log, deadline: roomy(), open: opener(gzipSync(fixture("vpc-flow-no-start.log"))) })));
    expect(err).to.be.instanceOf(BadRecordError);
    expect(err.message).to.contain("no timestamp");
  });

  it("takes the source bucket of a simple-form S3 access log from its first line", async () => {
    const [group] = await collect(objectGroups({ bucket: "b", key: "access/2019-02-06-00-00-38-5F3A8C2E1D4B6A70", eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open: opener(fixture("s3-access.log")) }));
    expect(group.labels).to.deep.equal({ __aws_log_type: "s3_access", __aws_s3_access: "amzn-s3-demo-bucket1" });
    expect(group.entries).to.have.length(3);
  });

  it("an empty simple-form S3 access log yields no group", async () => {
    expect(await collect(objectGroups({ bucket: "b", key: "access/2019-02-06-00-00-38-5F3A8C2E1D4B6A70", eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open: opener(Buffer.alloc(0)) }))).to.deep.equal([]);
  });

  it("skips CloudTrail digest files without reading them", async () => {
    const open = opener(Buffer.from("{}"));
    const key = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2022/01/24/123456789012_CloudTrail-Digest_us-east-1_20220124T0000Z_4jhzXFO2Jlvu2b3y.json.gz";
    expect(await collect(objectGroups({ bucket: "b", key, eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open }))).to.deep.equal([]);
    expect(open.opened).to.equal(0);
  });

  it("does not open an object whose key is unknown", async () => {
    const open = opener(Buffer.from("x"));
    const err = await failure(collect(objectGroups({ bucket: "b", key: "random.txt", eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open })));
    expect(err).to.be.instanceOf(BadRecordError);
    expect(open.opened).to.equal(0);
  });

  it("releases the object body when the reader stops early", async () => {
    let released = false;
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: Buffer.from("http 2018-07-02T22:23:00.186641Z app/x/1 1.2.3.4:5 -\n".repeat(100)) }),
        return: async () => {
          released = true;
          return { done: true, value: undefined };
        },
      }),
    };
    for await (const group of objectGroups({ bucket: "b", key: ALB_KEY, eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open: async () => ({ body }) })) {
      for await (const _ of group.entries as AsyncIterable<LogEntry[]>) break;
      break;
    }
    expect(released).to.equal(true);
  });

  it("releases a body with a read pending at once: destroys its stream and does not wait for the stream's own teardown", async () => {
    // Like a Node stream's iterator with a read pending (the gunzip pipe reads ahead): its
    // return() waits for that read, which ends only when the destroyed socket closes.
    const never = new Promise<never>(() => undefined);
    const inner: AsyncIterator<Uint8Array> = { next: () => never, return: () => never };
    let destroyed = false;
    const deadline = InvocationDeadline.in(60_000);
    try {
      const body = new BoundedBody(inner, deadline.limit("GetObject s3://b/k"), () => 60_000, "GetObject s3://b/k", () => { destroyed = true; });
      const pending = body.next();
      let timer: NodeJS.Timeout | undefined;
      const released = await Promise.race([
        body.return().then(() => true),
        new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), 1000); }),
      ]).finally(() => clearTimeout(timer));
      expect(released, "return() answered").to.equal(true);
      expect(destroyed, "the stream was destroyed").to.equal(true);
      const error = await pending.then(() => undefined, (err: unknown) => err);
      expect(error).to.be.instanceOf(S3ReadError);
    } finally {
      deadline.dispose();
    }
  });

  it("keeps no chunk it handed out, so an object read to its end is never held in memory whole", async () => {
    // Racing every read against one long-lived abort promise kept each read's result reachable.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const handedOut: WeakRef<Uint8Array>[] = [];
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 50; i++) {
        const chunk = new Uint8Array(64 * 1024);
        handedOut.push(new WeakRef(chunk));
        yield chunk;
      }
    }
    const deadline = InvocationDeadline.in(60_000);
    try {
      const body = new BoundedBody(chunks(), deadline.limit("GetObject s3://b/k"), () => 60_000, "GetObject s3://b/k");
      for (let i = 0; i < 40; i++) await body.next();
      // WeakRef targets live to the end of the current job.
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      expect(handedOut.slice(0, 39).filter((ref) => ref.deref() !== undefined).length, "chunks still reachable while the body is read").to.equal(0);
      await body.return();
    } finally {
      deadline.dispose();
    }
  });

  describe("an EventBridge key that is not the object's: the form-decoded key is tried next", () => {
    /** S3 without s3:ListBucket (the deployed role) answers a missing key AccessDenied, with it NoSuchKey. */
    const missingAnswers = ["NoSuchKey", "AccessDenied"];
    const encoded = "alb+logs/" + ALB_KEY;
    const decoded = "alb logs/" + ALB_KEY;
    const keyedOpener = (existing: string, missing: string): ObjectOpener & { keys: string[] } => {
      const open = Object.assign(async (location: { key: string }) => {
        open.keys.push(location.key);
        if (location.key !== existing) throw new S3ReadError(`GetObject s3://logs/${location.key} failed: ${missing}`, missing);
        return { body: once(gzipSync(fixture("alb.log"))) };
      }, { keys: [] as string[] });
      return open;
    };
    for (const missing of missingAnswers) {
      it(`after ${missing} for the key as it came`, async () => {
        const open = keyedOpener(decoded, missing);
        const [group] = await collect(objectGroups({ bucket: "logs", key: encoded, alternateKey: decoded, eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open }));
        expect(open.keys).to.deep.equal([encoded, decoded]);
        expect(group.metadata).to.deep.equal({ s3_bucket: "logs", s3_key: decoded });
        expect(group.entries).to.have.length(4);
      });
    }

    it("when neither exists, the error names both keys", async () => {
      const open = keyedOpener("neither", "AccessDenied");
      const err = await failure(collect(objectGroups({ bucket: "logs", key: encoded, alternateKey: decoded, eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open })));
      expect(err).to.be.instanceOf(S3ReadError);
      expect(err.message).to.contain(encoded).and.contain(decoded);
    });

    it("other failures (throttling, a stalled answer) are not taken for a missing key", async () => {
      const open = keyedOpener(decoded, "SlowDown");
      const err = await failure(collect(objectGroups({ bucket: "logs", key: encoded, alternateKey: decoded, eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open })));
      expect((err as S3ReadError).code).to.equal("SlowDown");
      expect(open.keys).to.deep.equal([encoded]);
    });
  });

  it("GetObject reads the version the event announced (versionId), and the current object without one", async () => {
    const urls: string[] = [];
    const server = createServer((req, res) => {
      urls.push(req.url ?? "");
      res.writeHead(200, { "content-type": "text/plain", "content-length": "3" });
      res.end("abc");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const restore = setEnv({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_SESSION_TOKEN: undefined });
    resetS3Clients();
    try {
      for (const versionId of ["3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", undefined]) {
        const deadline = roomy();
        try {
          const opened = await openS3Object({ bucket: "logs", key: "a b/k.log", region: "us-east-1", versionId }, deadline);
          const chunks: Buffer[] = [];
          for await (const chunk of opened.body) chunks.push(Buffer.from(chunk));
          expect(Buffer.concat(chunks).toString()).to.equal("abc");
        } finally {
          deadline.dispose();
        }
      }
      const query = urls.map((u) => new URL(u, "http://x").searchParams.get("versionId"));
      expect(query).to.deep.equal(["3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", null]);
    } finally {
      resetS3Clients();
      restore();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("hands the announced version to GetObject, also when the form-decoded key is tried", async () => {
    const seen: (string | undefined)[] = [];
    const open: ObjectOpener = async (location) => {
      seen.push(`${location.key}@${location.versionId}`);
      if (location.key !== "a b/" + ALB_KEY) throw new S3ReadError("missing", "NoSuchKey");
      return { body: once(gzipSync(fixture("alb.log"))) };
    };
    await collect(objectGroups({ bucket: "logs", key: "a+b/" + ALB_KEY, alternateKey: "a b/" + ALB_KEY, versionId: "v1", eventTime: "2024-06-01T12:00:00Z" }, { want: new Set(), log, deadline: roomy(), open }));
    expect(seen).to.deep.equal([`a+b/${ALB_KEY}@v1`, `a b/${ALB_KEY}@v1`]);
  });

  it("GetObject AccessDenied says that S3 also answers it for an object that does not exist (deleted since the event)", () => {
    const err = getObjectError("GetObject s3://logs/k", "eu-west-1", Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
    expect(err.code).to.equal("AccessDenied");
    expect(err.message).to.contain("GetObject s3://logs/k (region eu-west-1) failed: AccessDenied: Access Denied").and.contain("s3:ListBucket").and.contain("does not exist");
    expect(getObjectError("GetObject s3://logs/k", "eu-west-1", Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" })).message)
      .to.equal("GetObject s3://logs/k (region eu-west-1) failed: NoSuchKey: The specified key does not exist.");
  });

  it("reads a local file as the object it would be (replay)", async () => {
    const [group] = await collect(localObjectGroups(once(gzipSync(fixture("waf.log"))), "p/AWSLogs/111111111111/WAFLogs/us-east-1/ACL/2021/10/28/19/50/111111111111_waflogs_us-east-1_ACL_20211028T1950Z_e0ca43b5.log.gz"));
    expect(group.labels).to.deep.equal({ __aws_log_type: "s3_waf", __aws_s3_waf: "ACL", __aws_s3_waf_owner: "111111111111" });
    expect(group.entries).to.have.length(2);
  });
});
