/**
 * The entries the extension holds until Loki has stored them, and the flush that pushes them.
 *
 * Entries wait in arrival order. A flush takes them from the front in batches of BATCH_SIZE
 * (the shipper's Batcher, encoder and Loki client, so the same 400/413/429/5xx rules apply); an
 * entry leaves the outbox only when Loki's answer says it was stored (2xx) or refused for good
 * (400 and the like, counted as rejected). A batch that failed goes back to the front, unchanged,
 * for a later flush: its timestamps come from the records, so a resend after an unclear failure
 * (Loki stored it but the answer was lost) is deduplicated by Loki.
 *
 * Entries a `tenant` stage placed carry their tenant: a batch holds consecutive entries of one
 * tenant and is pushed with its X-Scope-OrgID. A tenant Loki refuses (401, 403, ...) has its
 * entries set aside for the rest of the flush, which goes on with the other tenants; they are
 * back at the front, in their order, for the next flush.
 *
 * Memory is bounded: held entries (in flight included) count their line's UTF-16 length plus
 * ENTRY_OVERHEAD_BYTES; when an entry would push the total past `maxBytes`, the oldest waiting
 * entries are dropped and counted.
 *
 * Unlike the shipper's pipeline, a push in flight here keeps its entries beside its body (the
 * batch itself is encoded as the pipeline's, encodeBatch, without a second set of streams): a
 * failed push is this outbox's ordinary path (Loki unreachable for a while), not a rare 413, and
 * puts its entries back in arrival order with their tenant, which a decoded body (grouped by
 * stream, sorted by time) no longer gives; and what is in flight is part of `maxBytes` anyway.
 */
import { DeliveryLag, type DeliveryLagFigures } from "../handler/delivery-lag";
import { Batcher } from "../handler/loki/batch";
import { thrownPushReport, type PushReport } from "../handler/loki/client";
import { encodeBatch, type EncodedBatch } from "../handler/loki/encode";
import type { Pusher } from "../handler/pipeline";
import type { Deadline, LogEntry } from "../handler/types";
import { FlushCutoff } from "./cutoff";

/** A rough per-entry cost besides the line: the entry object, its timestamp, the queue slot. */
export const ENTRY_OVERHEAD_BYTES = 100;

interface Held {
  labels: string;
  entry: LogEntry;
  size: number;
  /** Set by a tenant stage; undefined: TENANT_ID. */
  tenant: string | undefined;
  /** Arrival order, to put entries set aside back in order. */
  seq: number;
}

export interface OutboxCounters {
  /** Entries Loki stored. */
  delivered: number;
  /** Size of the acknowledged push requests before compression. */
  deliveredBytes: number;
  /** Entries Loki refused for good (400, or a single entry still too large after 413 splits). */
  rejected: number;
  /** Entries dropped because the memory bound was reached. */
  droppedEntries: number;
  droppedBytes: number;
  pushes: number;
  retries: number;
  splits: number;
  /** Flushes that ended with entries still held because a push failed or time ran out. */
  failedFlushes: number;
  /** Entries such flushes left held (an entry held through two failed flushes counts twice). */
  failedEntries: number;
}

export interface FlushResult {
  /** "ok": nothing held any more; "failed": a push failed; "out-of-time": the deadline came first. */
  outcome: "ok" | "failed" | "out-of-time";
  delivered: number;
  /** Loki's reason or the network error when a push failed. */
  message?: string;
  /**
   * Loki refused a push (401, 403, 404 and the like: answers.ts gives the fix): nothing will be
   * stored until a setting is fixed, unlike a Loki that is down or slow.
   */
  refused?: true;
}

/** Below this much time left, no new push is started. */
const MIN_PUSH_MS = 50;

export class Outbox {
  private queue: Held[] = [];
  private head = 0;
  private bytes = 0;
  private inFlightEntries = 0;
  /** Entries of failed or given-up pushes during a flush; back at the front when it ends. */
  private aside: Held[] = [];
  private nextSeq = 0;
  readonly counters: OutboxCounters = { delivered: 0, deliveredBytes: 0, rejected: 0, droppedEntries: 0, droppedBytes: 0, pushes: 0, retries: 0, splits: 0, failedFlushes: 0, failedEntries: 0 };
  private lag = new DeliveryLag();

  constructor(private readonly maxBytes: number) {}

  /** Entries waiting to be pushed (not counting those in flight). */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Entries held: waiting, in flight, and set aside by the running flush. */
  get held(): number {
    return this.waiting + this.inFlightEntries + this.aside.length;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** The delivery lag of the pushes acknowledged since the last call (see handler/delivery-lag.ts). */
  takeLag(): DeliveryLagFigures {
    const figures = this.lag.figures();
    this.lag = new DeliveryLag();
    return figures;
  }

  add(labels: string, entry: LogEntry, tenant?: string): void {
    const size = entry.line.length + ENTRY_OVERHEAD_BYTES;
    while (this.bytes + size > this.maxBytes && this.waiting > 0) {
      const oldest = this.queue[this.head];
      this.queue[this.head++] = undefined as unknown as Held;
      this.bytes -= oldest.size;
      this.counters.droppedEntries++;
      this.counters.droppedBytes += oldest.entry.line.length;
    }
    if (this.bytes + size > this.maxBytes) {
      // Everything else is in flight: this entry is the one that does not fit.
      this.counters.droppedEntries++;
      this.counters.droppedBytes += entry.line.length;
      return;
    }
    this.queue.push({ labels, entry, size, tenant, seq: this.nextSeq++ });
    this.bytes += size;
  }

  /**
   * Takes the oldest waiting entries of one tenant, up to one batch of `batchSize` bytes, and
   * encodes them (encodeBatch: the push keeps its body, not a second set of streams). On an
   * encoding error the entries are set aside and the error thrown.
   */
  private take(batchSize: number): { batch: EncodedBatch; taken: Held[]; tenant: string | undefined } {
    const batcher = new Batcher(batchSize);
    const taken: Held[] = [];
    const tenant = this.queue[this.head].tenant;
    while (this.head < this.queue.length) {
      const held = this.queue[this.head];
      if (held.tenant !== tenant) break;
      this.queue[this.head++] = undefined as unknown as Held;
      taken.push(held);
      if (batcher.add(held.labels, held.entry, 0)) break;
    }
    this.compact();
    this.inFlightEntries += taken.length;
    try {
      return { batch: encodeBatch(batcher.take()), taken, tenant };
    } catch (err) {
      this.setAside(taken);
      throw err;
    }
  }

  /** Loki stored (or refused for good) these entries: they leave. */
  private release(taken: Held[]): void {
    this.inFlightEntries -= taken.length;
    for (const held of taken) this.bytes -= held.size;
  }

  /** A push failed or was given up: the entries wait aside until the flush ends, then go back to the front, in their order. */
  private setAside(taken: Held[]): void {
    this.inFlightEntries -= taken.length;
    this.aside.push(...taken);
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Pushes waiting entries until none is left, a push fails, or `deadline` leaves no time.
   * Up to `concurrency` pushes are in flight; after a failure no new push starts.
   *
   * Nothing is waited for past the deadline (its signal, or the time it has left when it has
   * none): pushes still in flight then are given up, their entries go back to the front for a
   * later flush (or count as lost at SHUTDOWN), and whatever those pushes answer later is
   * ignored. A push the cutoff cut short may have reached Loki: the resend is deduplicated.
   */
  async flush(pusher: Pusher, deadline: Deadline, batchSize: number, concurrency: number): Promise<FlushResult> {
    let delivered = 0;
    let failure: string | undefined;
    let failed = false;
    let refusal = false;
    /** Tenants (of a tenant stage) Loki refused in this flush. */
    const refused = new Set<string>();
    /** Pushes in flight and the entries each took. */
    const inFlight = new Map<Promise<void>, Held[]>();
    const cutoff = new Cutoff(deadline);
    /** Set when the flush has answered: pushes given up at the cutoff no longer count. */
    let over = false;
    const settle = (taken: Held[], batch: EncodedBatch, tenant: string | undefined, report: PushReport): void => {
      if (over) return;
      const entries = batch.entries;
      this.counters.pushes += report.pushes;
      this.counters.retries += report.retries;
      this.counters.splits += report.splits;
      if (report.outcome === "failed") {
        if (report.fix !== undefined) refusal = true;
        failure ??= (report.message ?? (report.status !== undefined ? `HTTP ${report.status}` : "push failed")) + (report.fix !== undefined ? ` (HTTP ${report.status}${tenant !== undefined ? ` for tenant ${JSON.stringify(tenant)}` : ""}; ${report.fix})` : "");
        // Refused for this tenant only (its id, credentials or limits), or still rate limited
        // after the retries (Loki's ingestion limits are per tenant): the others go on.
        if ((report.fix !== undefined || report.status === 429) && tenant !== undefined) refused.add(tenant);
        // A push the cutoff ended says nothing about Loki; the loop ends by the clock anyway.
        else if (report.cutOff !== true) failed = true;
        this.setAside(taken);
        return;
      }
      this.release(taken);
      this.lag.acknowledged(batch, Date.now());
      this.counters.deliveredBytes += batch.bytes;
      this.counters.rejected += report.rejectedEntries;
      this.counters.delivered += entries - report.rejectedEntries;
      delivered += entries - report.rejectedEntries;
    };
    try {
      while (!failed && this.waiting > 0 && !cutoff.reached && deadline.remainingMs() >= MIN_PUSH_MS) {
        const first = this.queue[this.head];
        if (first.tenant !== undefined && refused.has(first.tenant)) {
          this.aside.push(first);
          this.queue[this.head++] = undefined as unknown as Held;
          this.compact();
          continue;
        }
        const { batch, taken, tenant } = this.take(batchSize);
        const push: Promise<void> = pusher.push(batch, deadline, tenant)
          .then((report) => settle(taken, batch, tenant, report), (err: unknown) => settle(taken, batch, tenant, thrownPushReport(err)))
          .finally(() => inFlight.delete(push));
        inFlight.set(push, taken);
        while (inFlight.size >= concurrency && !cutoff.reached) await Promise.race([...inFlight.keys(), cutoff.reachedPromise]);
      }
      if (inFlight.size > 0 && !cutoff.reached) await Promise.race([Promise.all(inFlight.keys()), cutoff.reachedPromise]);
    } finally {
      over = true;
      cutoff.dispose();
      // At the cutoff (or when encoding threw), pushes still in flight are given up, not waited for.
      for (const taken of inFlight.values()) this.setAside(taken);
      inFlight.clear();
      if (this.aside.length > 0) {
        // Pushes settle in any order: arrival order puts each stream's entries back in theirs.
        const back = this.aside.sort((a, b) => a.seq - b.seq);
        this.aside = [];
        this.queue = back.concat(this.queue.slice(this.head));
        this.head = 0;
        if (refused.size > 0) failed = true;
      }
    }
    if (failed || this.waiting > 0) {
      this.counters.failedFlushes++;
      this.counters.failedEntries += this.held;
      const why = { ...(failure !== undefined ? { message: failure } : {}), ...(refusal ? { refused: true as const } : {}) };
      return { outcome: failed ? "failed" : "out-of-time", delivered, ...why };
    }
    return { outcome: "ok", delivered };
  }
}

/**
 * When a flush must stop waiting: the deadline's signal aborting, or, for a deadline without one,
 * the time it has left running out (then a FlushCutoff of its own gives the signal, and
 * `dispose` clears its timer).
 */
class Cutoff {
  readonly reachedPromise: Promise<void>;
  private readonly signal: AbortSignal;
  private readonly ownCutoff: FlushCutoff | undefined;
  private onAbort: (() => void) | undefined;

  constructor(private readonly deadline: Deadline) {
    this.ownCutoff = deadline.signal ? undefined : new FlushCutoff(Date.now() + deadline.remainingMs());
    const signal = (this.signal = deadline.signal ?? this.ownCutoff!.signal);
    this.reachedPromise = signal.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
        this.onAbort = () => resolve();
        signal.addEventListener("abort", this.onAbort, { once: true });
      });
  }

  /** The signal aborted, or the clock says so (reading it does not wait for a late timer). */
  get reached(): boolean {
    return this.signal.aborted || this.deadline.remainingMs() <= 0;
  }

  dispose(): void {
    this.ownCutoff?.dispose();
    if (this.onAbort) this.signal.removeEventListener("abort", this.onAbort);
  }
}
