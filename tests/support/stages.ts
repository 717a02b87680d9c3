/** Building blocks for testing one stage factory directly, without the pipeline. */
import { expect } from "chai";
import { ConfigError } from "../../handler/config";
import { compileStages } from "../../handler/stages/index";
import type { Stage, StageContext, StageEntry } from "../../handler/stages/types";
import { MemoryLog } from "./events";

/** An entry as the stages see it; `extracted` starts as a copy of the labels, as in Promtail. */
export function stageEntry(init: Partial<StageEntry> = {}): StageEntry {
  const labels = init.labels ?? {};
  return { labels, extracted: init.extracted ?? { ...labels }, line: init.line ?? "", sec: init.sec ?? 0, nsec: init.nsec ?? 0, metadata: init.metadata ?? {} };
}

/** A context whose clock reads `nowMs` (epoch milliseconds) and whose randomness is `random`. */
export function stageContext(nowMs = Date.UTC(2026, 6, 1), random: () => number = Math.random): StageContext & { log: MemoryLog } {
  return { log: new MemoryLog(), now: () => nowMs, random };
}

/** Never used to compile nested stages: for factories that have none. */
export function noNested(): Stage[] {
  throw new Error("this stage has no nested stages");
}

/** The ConfigError a LOKI_STAGE_CONFIGS value is refused with (fails the test if it is accepted). */
export function stageRefusal(stages: unknown): ConfigError {
  try {
    compileStages(stages, "LOKI_STAGE_CONFIGS");
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}
