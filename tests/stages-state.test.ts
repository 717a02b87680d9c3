/**
 * The stages with state or side inputs: sampling (the context's randomness) and limit (token
 * buckets on the context's clock that live for the warm container).
 */
import { expect } from "chai";
import { createLabelPipeline } from "../handler/labels/pipeline";
import type { PushReport } from "../handler/loki/client";
import { decodePushBody } from "../handler/loki/decode";
import type { EncodedPush } from "../handler/loki/encode";
import { Pusher, ship, ShipOptions } from "../handler/pipeline";
import { compileStages } from "../handler/stages/index";
import { StageRunner } from "../handler/stages/runner";
import type { LogEntry, SourceRecord } from "../handler/types";
import { MemoryLog } from "./support/events";
import { seededRandom } from "./support/random";
import { stageContext, stageEntry, stageRefusal } from "./support/stages";

const NOW_MS = Date.UTC(2026, 11, 1, 12, 0, 0);

const refusal = stageRefusal;

describe("stages: sampling", () => {
  const sample = (options: unknown, randoms: number[]) => {
    const pipeline = compileStages([{ sampling: options }], "LOKI_STAGE_CONFIGS");
    const ctx = stageContext(NOW_MS, () => randoms.shift() as number);
    const out: Array<string | undefined> = [];
    while (randoms.length > 0) out.push(pipeline.run(stageEntry({ line: "x" }), ctx)?.drop);
    return out;
  };

  it("keeps an entry when the random draw is below rate, else drops it as sampling_stage", () => {
    expect(sample({ rate: 0.3 }, [0.05, 0.5, 0.2999, 0.3])).to.deep.equal([undefined, "sampling_stage", undefined, "sampling_stage"]);
  });
  it("counts the drops under drop_counter_reason", () => {
    expect(sample({ rate: 0.5, drop_counter_reason: "sampled_out" }, [0.9])).to.deep.equal(["sampled_out"]);
  });
  it("rate 1 keeps everything, rate 0 drops everything", () => {
    expect(sample({ rate: 1 }, [0, 0.5, 0.999999])).to.deep.equal([undefined, undefined, undefined]);
    expect(sample({ rate: 0 }, [0, 0.5])).to.deep.equal(["sampling_stage", "sampling_stage"]);
  });
  it("keeps about rate of the entries over many draws", () => {
    const pipeline = compileStages([{ sampling: { rate: 0.1 } }], "LOKI_STAGE_CONFIGS");
    const ctx = stageContext(NOW_MS, seededRandom(12));
    let kept = 0;
    for (let i = 0; i < 10_000; i++) if (pipeline.run(stageEntry({ line: "x" }), ctx) === undefined) kept++;
    expect(kept).to.be.within(900, 1100);
  });
  it("refuses a missing or out-of-range rate (Promtail would drop everything without one)", () => {
    expect(refusal([{ sampling: {} }]).problem).to.equal("is required");
    expect(refusal([{ sampling: { rate: 1.5 } }]).problem).to.match(/must be from 0 to 1/);
    expect(refusal([{ sampling: { rate: "often" } }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].sampling.rate");
  });
});

describe("stages: limit", () => {
  /** Runs one entry at `ms` (labels given) through a compiled limit stage; answers kept or the drop reason. */
  function limiter(options: Record<string, unknown>) {
    const pipeline = compileStages([{ limit: { drop: true, ...options } }], "LOKI_STAGE_CONFIGS");
    return (ms: number, labels: Record<string, string> = {}) => pipeline.run(stageEntry({ labels, line: "x" }), stageContext(ms))?.drop ?? "kept";
  }

  it("lets a burst through, then rate entries per second, dropping the rest as ratelimit_drop_stage", () => {
    const at = limiter({ rate: 2, burst: 3 });
    expect([at(0), at(0), at(0), at(0)]).to.deep.equal(["kept", "kept", "kept", "ratelimit_drop_stage"]);
    expect([at(499), at(500), at(500)]).to.deep.equal(["ratelimit_drop_stage", "kept", "ratelimit_drop_stage"]);
    // Ten idle seconds refill the bucket to its burst, not beyond.
    expect([at(10_500), at(10_500), at(10_500), at(10_500)]).to.deep.equal(["kept", "kept", "kept", "ratelimit_drop_stage"]);
  });

  it("refills nothing when the clock steps back", () => {
    const at = limiter({ rate: 1, burst: 1 });
    expect([at(5_000), at(4_000), at(5_500), at(6_000)]).to.deep.equal(["kept", "ratelimit_drop_stage", "ratelimit_drop_stage", "kept"]);
  });

  it("with by_label_name, has one bucket per value of the label and leaves entries without it alone", () => {
    const at = limiter({ rate: 1, burst: 1, by_label_name: "app" });
    expect([at(0, { app: "a" }), at(0, { app: "a" }), at(0, { app: "b" }), at(0, { other: "x" }), at(0, { other: "x" })])
      .to.deep.equal(["kept", "ratelimit_drop_stage", "kept", "kept", "kept"]);
  });

  it("refuses drop: false (Promtail's default: it waits), saying why and what to do", () => {
    for (const options of [{ rate: 1, burst: 1 }, { rate: 1, burst: 1, drop: false }]) {
      const err = refusal([{ limit: options }]);
      expect(err.setting).to.equal("LOKI_STAGE_CONFIGS[0].limit.drop");
      expect(err.problem).to.match(/makes Promtail wait .* a Lambda would be billed for the wait/);
      expect(err.acceptedForm).to.match(/^true: entries over the rate are dropped/);
    }
  });

  it("refuses a missing or non-positive rate or burst", () => {
    expect(refusal([{ limit: { burst: 1, drop: true } }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].limit.rate");
    expect(refusal([{ limit: { rate: 0, burst: 1, drop: true } }]).problem).to.match(/must be above 0/);
    expect(refusal([{ limit: { rate: 1, drop: true } }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].limit.burst");
    expect(refusal([{ limit: { rate: 1, burst: 0, drop: true } }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].limit.burst");
  });

  it("keeps its buckets across invocations of a warm container, and the shipper counts its drops by reason", async () => {
    let clock = NOW_MS;
    const runner = new StageRunner(compileStages([{ limit: { rate: 1, burst: 2, drop: true } }], "LOKI_STAGE_CONFIGS"), new MemoryLog(), () => clock);
    const pushed: string[] = [];
    const pusher: Pusher = {
      async push(request: EncodedPush): Promise<PushReport> {
        pushed.push(...decodePushBody(request.body).flatMap((s) => s.entries.map((e) => e.line)));
        return { outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0 };
      },
    };
    const invocation = (lines: string[]) => {
      const records: SourceRecord[] = [{ describe: "r", groups: () => [{ labels: { app: "x" }, entries: lines.map((line): LogEntry => ({ sec: clock / 1000, nsec: 0, line })) }] }];
      const options: ShipOptions = {
        batchSize: 1 << 20, pushConcurrency: 1, structuredMetadata: [], printLogLine: false, maxLineSize: 262144, maxLineSizeAction: "truncate",
        labelsFor: createLabelPipeline({ extraLabels: {}, dropLabels: [], relabelRules: [] }), stages: runner, pusher,
        deadline: { remainingMs: () => 60_000 }, log: new MemoryLog(),
      };
      return ship(records, options);
    };
    const first = await invocation(["1", "2", "3"]);
    clock += 500; // half a token later: the next invocation finds the bucket as the last one left it
    const second = await invocation(["4"]);
    expect(pushed).to.deep.equal(["1", "2"]);
    expect(first.stats.stageDropped).to.deep.equal({ ratelimit_drop_stage: 1 });
    expect(second.stats.stageDropped).to.deep.equal({ ratelimit_drop_stage: 1 });
  });
});
