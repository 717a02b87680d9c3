/**
 * The shipping loop: records -> entry groups -> final labels -> batches -> Loki.
 *
 * Entries are pushed as batches fill, so an S3 object of any size streams through in bounded
 * memory. Every batch remembers which records its entries came from: when a push fails for
 * good, exactly those records (and the ones not yet started) are reported failed, so the
 * event source retries them; entries of a retried record that did arrive are deduplicated by
 * Loki because their timestamps come from the log, not the clock.
 *
 * Reading stops as soon as nothing more can be delivered: when a push failed for good (Loki is
 * down for the rest of this invocation) or at the invocation's cutoff (`deadline.signal`, a
 * safety margin before the Lambda deadline). The record being read is abandoned (its S3 body
 * is released), and it and every record not yet read are reported failed in time.
 *
 * A `__tenant_id__` label (set by relabeling or a stage, Promtail's reserved label; see
 * labels/tenant.ts) may send entries to other tenants than TENANT_ID: each tenant has its own
 * batch and pushes (one X-Scope-OrgID per request), and the batches of all tenants together
 * hold at most HELD_BATCHES x BATCH_SIZE (then the largest is pushed). A tenant Loki refuses
 * (401, 403, ...), or keeps answering 429 (its ingestion limits) until the retries run out, fails
 * only the records with entries for it; the others go on.
 *
 * After the cutoff nothing is waited for: a 128 MB function gets a small share of a vCPU, so
 * its timers fire late and every step costs many times its CPU time, and the margin must
 * remain for the answer. Pushes still in flight are given up (the same signal aborts their
 * requests; whatever they answer later is ignored) and their records reported failed: an
 * entry that did arrive is deduplicated by Loki when the record is retried.
 */
import type { FinalLabels } from "./labels/pipeline";
import { Batcher } from "./loki/batch";
import { thrownPushReport, type PushReport } from "./loki/client";
import { encodeBatch, type EncodedBatch, type EncodedPush } from "./loki/encode";
import { limitCountedLine, LongLineAction } from "./line-size";
import { errorFields } from "./log";
import { DeliveryLag } from "./delivery-lag";
import { BadRecordError, ENTRY_TIME_RANGE, isStorableTimestamp } from "./types";
import { countDrop, type StageRunner } from "./stages/runner";
import { INVALID_TENANT } from "./labels/tenant";
import type { Deadline, EntryGroup, Log, LogEntry, Metadata, SourceRecord } from "./types";

export interface Pusher {
  /**
   * Pushes an encoded request (its body and entry count: what a push in flight keeps, see
   * EncodedPush); `tenant`, when given, is the X-Scope-OrgID of this push (set by a tenant
   * stage) instead of TENANT_ID.
   */
  push(request: EncodedPush, deadline: Deadline, tenant?: string): Promise<PushReport>;
}

/** The batches of several tenants together hold at most this many BATCH_SIZEs before the largest is pushed. */
export const HELD_BATCHES = 2;
/** The key of the entries without `__tenant_id__`: they go under TENANT_ID (a tenant id is never empty). */
const DEFAULT_TENANT = "";

export interface ShipOptions {
  batchSize: number;
  /** PUSH_CONCURRENCY: pushes in flight at once (1 keeps every stream's pushes in order). */
  pushConcurrency: number;
  /** STRUCTURED_METADATA: the candidate fields to keep. */
  structuredMetadata: readonly string[];
  printLogLine: boolean;
  /** MAX_LINE_SIZE and MAX_LINE_SIZE_ACTION: every line is cut here, whatever its source. */
  maxLineSize: number;
  maxLineSizeAction: LongLineAction;
  labelsFor: (base: Record<string, string>) => FinalLabels | null;
  /**
   * Whether entries may go to other tenants than TENANT_ID (a `__tenant_id__` label from
   * EXTRA_LABELS, relabeling or stages): a refusal then fails only its tenant's records.
   * Default: whether a stage may set one.
   */
  multiTenant?: boolean;
  /** LOKI_STAGE_CONFIGS, run on every entry after the labels; undefined when none are configured. */
  stages?: StageRunner;
  pusher: Pusher;
  /** The time pushes may use; its `signal` (the cutoff) also stops reading. */
  deadline: Deadline;
  log: Log;
  /** The clock the delivery lag is measured with (Unix ms); Date.now unless a test pins it. */
  now?: () => number;
}

/** The counters of the per-invocation summary line. */
export interface ShipStats {
  records: number;
  failedRecords: number;
  entries: number;
  bytes: number;
  streams: number;
  pushes: number;
  retries: number;
  splits: number;
  /** Entries dropped because relabeling left no labels (or a keep/drop rule dropped them). */
  dropped: number;
  /** Entries Loki refused for good (400, or too large even alone). */
  rejected: number;
  /** Entries a stage dropped (or left without labels or line), by reason (drop_counter_reason). */
  stageDropped: Record<string, number>;
  /** Lines longer than MAX_LINE_SIZE shipped truncated. */
  truncatedLines: number;
  /** Lines longer than MAX_LINE_SIZE left out (MAX_LINE_SIZE_ACTION=drop). */
  droppedLongLines: number;
  /** Lines longer than MAX_LINE_SIZE shipped as consecutive entries (MAX_LINE_SIZE_ACTION=split). */
  splitLines: number;
  /** Entries in pushes Loki acknowledged, less those it rejected. */
  shipped: number;
  /** Delivery lag: age, when its push was acknowledged, of the newest and of the oldest entry acknowledged (its own timestamp against the clock); absent when Loki acknowledged nothing. */
  lagNewestMs?: number;
  lagOldestMs?: number;
}

export interface ShipResult {
  /** Indexes into the records array of the records that must be retried. */
  failed: number[];
  stats: ShipStats;
}

export async function ship(records: readonly SourceRecord[], opts: ShipOptions): Promise<ShipResult> {
  const stats: ShipStats = {
    records: records.length, failedRecords: 0, entries: 0, bytes: 0, streams: 0,
    pushes: 0, retries: 0, splits: 0, dropped: 0, rejected: 0, stageDropped: {}, truncatedLines: 0, droppedLongLines: 0, splitLines: 0, shipped: 0,
  };
  const stages = opts.stages;
  const now = opts.now ?? Date.now;
  const lag = new DeliveryLag();
  const failed = new Set<number>();
  /** One batch per tenant (DEFAULT_TENANT: TENANT_ID), and the bytes they hold together. */
  const batchers = new Map<string, Batcher>();
  let heldBytes = 0;
  /** Tenants Loki refused in this invocation (only when entries may go to several tenants). */
  const refusedTenants = new Set<string>();
  const multiTenant = opts.multiTenant ?? stages?.setsTenant === true;
  const wanted = new Set(opts.structuredMetadata);
  let lokiDown = false;
  const signal = opts.deadline.signal;
  // The clock as well as the signal: reading that finds its bytes already buffered runs on
  // microtasks only, and the signal's timer cannot fire until it yields.
  const timeUp = (): boolean => signal?.aborted === true || opts.deadline.remainingMs() <= 0;
  /** Nothing more can be delivered in this invocation: stop reading, fail what is left. */
  const stopped = (): boolean => lokiDown || timeUp();
  let stopLogged = false;
  const logStop = (record: string): void => {
    if (stopLogged || lokiDown) return;
    stopLogged = true;
    opts.log.error("stopped reading: no push can complete before the Lambda deadline; the unfinished records are reported failed", {
      record, reason: signal?.aborted ? errorFields(signal.reason).error : "the invocation reached its cutoff",
    });
  };
  const refusalsLogged = new Set<string>();

  /**
   * Up to `pushConcurrency` pushes are in flight while the next batch is read and encoded, so
   * the network wait overlaps with CPU work and with other pushes instead of adding to it. They
   * hold their encoded batches only (encodeBatch): body, records and counts, not the entries.
   */
  const inFlight = new Map<Promise<void>, EncodedBatch>();
  /** Resolves at the cutoff (never without a signal): every wait for a push races it. */
  const cutoff = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  /** Set when ship answers: pushes given up at the cutoff no longer count. */
  let answered = false;

  /** A batch whose entries were not (all) stored: its records fail and are retried. */
  const failOwners = (batch: { owners: readonly number[] }): void => batch.owners.forEach((owner) => failed.add(owner));

  const settle = (batch: EncodedBatch, tenant: string, report: PushReport): void => {
    if (answered) return;
    stats.pushes += report.pushes;
    stats.retries += report.retries;
    stats.splits += report.splits;
    stats.rejected += report.rejectedEntries;
    if (report.outcome === "failed") {
      // A definitive failure: its records must be retried, and the rest of the run is pointless.
      failOwners(batch);
      // A refusal, or a 429 that outlasted the retries (Loki's ingestion limits are per tenant),
      // may concern one tenant only: the other tenants go on.
      if (multiTenant && (report.fix !== undefined || report.status === 429)) refusedTenants.add(tenant);
      // A push the cutoff ended says nothing about Loki: the stop is logged once as time up.
      else if (report.cutOff !== true) lokiDown = true;
      // Pushes in flight together all get the same 401/403/404: one error says it all.
      if (report.fix !== undefined && !refusalsLogged.has(tenant)) {
        refusalsLogged.add(tenant);
        const which = multiTenant ? `its records and all records with entries for ${tenant === DEFAULT_TENANT ? "TENANT_ID" : `tenant ${JSON.stringify(tenant)}`}` : "its records and all records after it";
        opts.log.error(`Loki refused a push with ${report.status}: nothing of it was stored; ${which} fail and will be retried`, {
          ...(tenant === DEFAULT_TENANT ? {} : { tenant }),
          status: report.status,
          reason: report.message,
          fix: report.fix,
        });
      }
    } else {
      // Loki answered: what it did not reject is stored, and the entries' ages are the lag.
      stats.bytes += batch.bytes;
      stats.shipped += batch.entries - report.rejectedEntries;
      lag.acknowledged(batch, now());
    }
  };

  /**
   * Takes what is batched for `tenant` and encodes it, or fails its records once nothing can be
   * delivered (undefined). Synchronous, so that the batch's entries are garbage once it returns:
   * the push that follows holds the encoded batch only.
   */
  const takeEncoded = (batcher: Batcher, tenant: string): EncodedBatch | undefined => {
    heldBytes -= batcher.bytes;
    const batch = batcher.take();
    if (stopped() || refusedTenants.has(tenant)) {
      failOwners(batch);
      return undefined;
    }
    stats.streams += batch.streams.length;
    try {
      return encodeBatch(batch);
    } catch (err) {
      // The batch holds entries of other records too: none of them may pass as delivered.
      failOwners(batch);
      throw err;
    }
  };

  /** Pushes what is batched for `tenant`; once nothing can be delivered, fails the records of the batch instead. */
  const flush = async (tenant: string): Promise<void> => {
    const batcher = batchers.get(tenant);
    if (batcher === undefined || batcher.isEmpty) return;
    // A tenant of a tenant stage may not come back: its empty batcher goes.
    if (tenant !== DEFAULT_TENANT) batchers.delete(tenant);
    const batch = takeEncoded(batcher, tenant);
    if (batch === undefined) return;
    while (inFlight.size >= opts.pushConcurrency && !timeUp()) await Promise.race([...inFlight.keys(), cutoff]);
    if (stopped() || refusedTenants.has(tenant)) return failOwners(batch);
    const push: Promise<void> = opts.pusher.push(batch, opts.deadline, tenant === DEFAULT_TENANT ? undefined : tenant)
      // A push that throws stored nothing anyone knows of: its records fail like any failed push's
      // (left unhandled, its records, read to their end already, were acknowledged).
      .then((report) => settle(batch, tenant, report), (err: unknown) => {
        opts.log.error("a Loki push failed with an error instead of an answer; its records fail", errorFields(err));
        settle(batch, tenant, thrownPushReport(err));
      })
      .finally(() => inFlight.delete(push));
    inFlight.set(push, batch);
  };

  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    // Once nothing can be delivered in this invocation, reading more records is wasted time.
    if (stopped()) {
      logStop(record.describe);
      failed.add(index);
      continue;
    }
    try {
      for await (const group of record.groups()) {
        const final = opts.labelsFor(group.labels);
        const groupMetadata = pickMetadata(group.metadata, wanted);
        const add = (entry: LogEntry): Promise<void> | undefined => {
          stats.entries++;
          // A piece of a line the S3 reader split as it read it (MAX_LINE_SIZE_ACTION=split).
          if (entry.piece === 1) stats.splitLines++;
          if (final === null) {
            stats.dropped++;
            return undefined;
          }
          const metadata = mergeMetadata(groupMetadata, entry.metadata, wanted);
          // Assign only on change: adding a property to every entry would change its hidden class.
          if (metadata !== entry.metadata) entry.metadata = metadata;
          let key = final.key;
          let tenant = final.tenant;
          if (stages !== undefined) {
            const staged = stages.run(final, entry);
            if ("drop" in staged) {
              countDrop(stats.stageDropped, staged.drop);
              return undefined;
            }
            key = staged.key;
            entry = staged.entry;
            tenant = staged.tenant;
          }
          if (tenant === null) {
            // Relabeling set a `__tenant_id__` Loki would refuse: it must not go to another tenant.
            countDrop(stats.stageDropped, INVALID_TENANT);
            return undefined;
          }
          // Loki refuses a line above its max_line_size (400): cut it here, after the stages
          // (which may rewrite it) and before batching.
          const line = limitCountedLine(entry.line, opts.maxLineSize, opts.maxLineSizeAction, stats);
          if (line === undefined) return undefined;
          if (typeof line !== "string") return enqueuePieces(key, entry, line, tenant ?? DEFAULT_TENANT);
          entry.line = line;
          return enqueue(key, entry, tenant ?? DEFAULT_TENANT);
        };
        const enqueue = (key: string, entry: LogEntry, tenant: string): Promise<void> | undefined => {
          if (opts.printLogLine) opts.log.info("log line", { labels: key, line: entry.line });
          // Sources check their times; this catches any parser or stage that did not: one such
          // entry would make Loki refuse the whole push, other records' entries included.
          if (!isStorableTimestamp(entry.sec, entry.nsec)) throw unstorableTime(entry);
          if (refusedTenants.has(tenant)) {
            // Loki refused this tenant earlier in this invocation: the record fails and is retried.
            failed.add(index);
            return undefined;
          }
          let batcher = batchers.get(tenant);
          if (batcher === undefined) batchers.set(tenant, (batcher = new Batcher(opts.batchSize)));
          const before = batcher.bytes;
          const full = batcher.add(key, entry, index);
          heldBytes += batcher.bytes - before;
          if (full) return flush(tenant);
          return heldBytes >= opts.batchSize * HELD_BATCHES ? flush(largestBatch(batchers)) : undefined;
        };
        /** A split line: consecutive entries with its timestamp, stream and metadata, in order. */
        const enqueuePieces = async (key: string, entry: LogEntry, pieces: readonly string[], tenant: string): Promise<void> => {
          for (const piece of pieces) await enqueue(key, { sec: entry.sec, nsec: entry.nsec, line: piece, metadata: entry.metadata }, tenant);
        };
        await forEachEntry(group, add, stopped);
        if (stopped()) throw new StopReading();
      }
    } catch (err) {
      failed.add(index);
      if (stopped()) logStop(record.describe);
      else opts.log.error("record failed", { record: record.describe, ...errorFields(err) });
    }
  }
  // Also when Loki is down: what is still batched may belong to records that completed, which
  // must then be reported failed too.
  for (const tenant of [...batchers.keys()]) await flush(tenant);
  if (!timeUp()) await Promise.race([Promise.all(inFlight.keys()), cutoff]);
  // At the cutoff, pushes still in flight are given up rather than waited for.
  answered = true;
  for (const [push, batch] of inFlight) {
    push.catch(() => undefined);
    failOwners(batch);
  }

  stats.failedRecords = failed.size;
  Object.assign(stats, lag.figures());
  return { failed: [...failed].sort((a, b) => a - b), stats };
}

/** The tenant whose batch holds the most bytes. */
function largestBatch(batchers: ReadonlyMap<string, Batcher>): string {
  let largest = DEFAULT_TENANT;
  let bytes = -1;
  for (const [tenant, batcher] of batchers) {
    if (batcher.bytes > bytes) {
      largest = tenant;
      bytes = batcher.bytes;
    }
  }
  return largest;
}

/** Thrown into a record's reading to abandon it: leaving the loop releases its source (S3 body). */
class StopReading extends Error {
  constructor() {
    super("stopped reading: nothing more can be delivered in this invocation");
    this.name = "StopReading";
  }
}

function unstorableTime(entry: LogEntry): BadRecordError {
  return new BadRecordError(`an entry's timestamp (${entry.sec} s + ${entry.nsec} ns since the epoch) is not a time Loki can store (${ENTRY_TIME_RANGE}); its line begins ${JSON.stringify(entry.line.slice(0, 80))}`);
}

/**
 * Calls `add` for every entry; synchronous arrays (CloudWatch, Kinesis) avoid a microtask per
 * entry, async streams (S3 objects) are awaited so pushing applies backpressure. `stopped` is
 * asked after every push and every chunk, so an object is not read on once nothing can be
 * delivered.
 */
async function forEachEntry(group: EntryGroup, add: (e: LogEntry) => Promise<void> | undefined, stopped: () => boolean): Promise<void> {
  const entries = group.entries;
  if (Array.isArray(entries)) return forEachOf(entries, add, stopped);
  if (Symbol.iterator in entries) {
    for (const entry of entries as Iterable<LogEntry>) {
      const pending = add(entry);
      if (pending) {
        await pending;
        if (stopped()) throw new StopReading();
      }
    }
    return;
  }
  for await (const batch of entries) {
    if (stopped()) throw new StopReading();
    await forEachOf(batch, add, stopped);
  }
}

/**
 * `add` on every entry of an array, by index: this loop runs once per group over thousands of
 * entries, mostly before V8 optimises it, and there a `for...of` allocates an iterator result
 * per entry (1 MB of garbage per CloudWatch payload of 24,000 events, which brings forward the
 * scavenges that copy the payload still alive).
 */
async function forEachOf(entries: readonly LogEntry[], add: (e: LogEntry) => Promise<void> | undefined, stopped: () => boolean): Promise<void> {
  for (let i = 0; i < entries.length; i++) {
    const pending = add(entries[i]);
    if (pending) {
      await pending;
      if (stopped()) throw new StopReading();
    }
  }
}

/**
 * The wanted fields of `candidates`, in a new object without empty values, frozen because the
 * entries of a group share it (the stages copy it before changing it, see stages/types.ts).
 */
function pickMetadata(candidates: Metadata | undefined, wanted: ReadonlySet<string>): Metadata | undefined {
  if (!candidates || wanted.size === 0) return undefined;
  let picked: Metadata | undefined;
  for (const name of wanted) {
    const value = candidates[name];
    if (value !== undefined && value !== "") (picked ??= {})[name] = value;
  }
  return picked && Object.freeze(picked);
}

function mergeMetadata(group: Metadata | undefined, own: Metadata | undefined, wanted: ReadonlySet<string>): Metadata | undefined {
  if (own === undefined) return group;
  const picked = pickMetadata(own, wanted);
  if (picked === undefined) return group;
  return group === undefined ? picked : Object.freeze({ ...group, ...picked });
}
