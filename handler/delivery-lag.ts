/**
 * Delivery lag: how old entries were when Loki acknowledged the push that carried them.
 */
import type { BatchSummary } from "./loki/batch";

export interface DeliveryLagFigures {
  lagNewestMs?: number;
  lagOldestMs?: number;
}

/**
 * The invocation's delivery lag, from the batches Loki acknowledged: the newest entry's age
 * when its push was acknowledged, and the oldest entry's age when its push was (each entry's own
 * timestamp against the clock at the acknowledgement). The shipper measures an invocation with
 * it, the telemetry extension's outbox a flush.
 */
export class DeliveryLag {
  private newest = { ms: -Infinity, ackMs: 0 };
  private oldest = { ms: Infinity, ackMs: 0 };

  acknowledged(batch: Pick<BatchSummary, "entries" | "oldestMs" | "newestMs">, ackMs: number): void {
    if (batch.entries === 0) return;
    if (batch.newestMs > this.newest.ms) this.newest = { ms: batch.newestMs, ackMs };
    if (batch.oldestMs < this.oldest.ms) this.oldest = { ms: batch.oldestMs, ackMs };
  }

  figures(): DeliveryLagFigures {
    if (this.newest.ms === -Infinity) return {};
    return { lagNewestMs: age(this.newest), lagOldestMs: age(this.oldest) };
  }
}

/**
 * An entry's age at its acknowledgement, never below 0: a producer's clock ahead of ours stamps
 * entries in the future (CloudWatch Logs accepts events up to two hours ahead), and a negative
 * age would read as a lag better than none, and drag the Minimum the lag alarms watch below zero.
 */
function age(entry: { ms: number; ackMs: number }): number {
  return Math.max(0, Math.round(entry.ackMs - entry.ms));
}
