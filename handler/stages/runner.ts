/**
 * Runs LOKI_STAGE_CONFIGS on the shipper's entries: each entry starts with its stream's final
 * labels (after EXTRA_LABELS, DROP_LABELS, RELABEL_CONFIGS) as labels and as Promtail's
 * extracted map, passes every stage, and comes out with the stream it now belongs to, or the
 * reason it was dropped. Lives for the warm container, so stage state (limit, sampling) and
 * the stream-key cache outlast one invocation.
 */
import { type FinalLabels, GenerationalCache } from "../labels/pipeline";
import { formatLabels, newLabels } from "../labels/names";
import { hasStreamLabels, INVALID_TENANT, tenantOf } from "../labels/tenant";
import type { Labels, LogEntry, Log, Metadata } from "../types";
import type { StagePipeline } from "./index";
import type { StageContext, StageEntry } from "./types";

/** Reasons counted for entries the runner itself drops. */
export const EMPTY_LINE = "empty_line";
export const EMPTY_LABELS = "empty_labels";

/** `tenant`: the X-Scope-OrgID the entry's `__tenant_id__` label picks after the stages (undefined: TENANT_ID). */
export type StagedEntry = { key: string; entry: LogEntry; tenant: string | undefined } | { drop: string };

/** The metadata of an entry that has none: shared, hence frozen (see writableMetadata). */
const NO_METADATA: Readonly<Metadata> = Object.freeze({});

/** Marks a cached "the stages left no label" answer. */
const NO_LABELS = "";

export class StageRunner {
  private readonly ctx: StageContext;
  /**
   * Stream selectors of the label sets stages produced: per stream, by what the stages changed
   * (usually one or two labels), so an entry costs a short key instead of sorting and joining
   * its whole label set.
   */
  private readonly keys = new GenerationalCache<GenerationalCache<string>>(10_000);
  /** Stream selectors of the frozen label sets stages derived (see setLabel), by identity. */
  private readonly frozenKeys = new WeakMap<Readonly<Labels>, string>();
  /** The stream whose labels `template` holds, as an ordinary object (see extractedFor). */
  private templateOf: FinalLabels | undefined;
  private template: Record<string, unknown> | undefined;
  /** Whether the labels of `templateOf` are frozen (FinalLabels are), so entries may share them. */
  private streamFrozen = false;
  private readonly staged: StageEntry = { labels: NO_METADATA as Readonly<Labels>, extracted: {}, line: "", sec: 0, nsec: 0, metadata: NO_METADATA };

  constructor(private readonly pipeline: StagePipeline, log: Log, now: () => number = Date.now, random: () => number = Math.random) {
    this.ctx = { log, now, random };
  }

  /** Whether a stage may set `__tenant_id__`, sending entries to tenants other than TENANT_ID. */
  get setsTenant(): boolean {
    return this.pipeline.setsTenant;
  }

  /**
   * Runs the stages on one entry of a stream. `entry.metadata` is the entry's structured
   * metadata as the shipper would send it. The entry object is not changed.
   *
   * Nothing is copied up front but the extracted map: the entry starts with the stream's own
   * frozen label set and its frozen metadata, which stages copy only when they change them
   * (`writableLabels`, `writableMetadata`), so an unchanged label set costs no copy and no key.
   */
  run(stream: FinalLabels, entry: LogEntry): StagedEntry {
    const metadata = entry.metadata;
    // One StageEntry for every entry: run is synchronous and no stage keeps the entry it is given.
    const staged = this.staged;
    staged.extracted = this.extractedFor(stream);
    // FinalLabels are frozen; a caller's unfrozen set gets a copy rather than being changed.
    staged.labels = this.streamFrozen ? stream.labels : newLabels(stream.labels);
    staged.line = entry.line;
    staged.sec = entry.sec;
    staged.nsec = entry.nsec;
    staged.metadata = metadata === undefined ? NO_METADATA : Object.isFrozen(metadata) ? metadata : { ...metadata };
    const result = this.pipeline.run(staged, this.ctx);
    if (result !== undefined) return result;
    // An entry that had a line and lost it to the stages says nothing any more.
    if (staged.line === "" && entry.line !== "") return { drop: EMPTY_LINE };
    const key = staged.labels === stream.labels ? stream.key : this.keyOf(stream, staged.labels);
    if (key === NO_LABELS) return { drop: EMPTY_LABELS };
    // Whoever wrote `__tenant_id__` last (relabeling, a tenant stage, a labels stage) picks the tenant.
    const tenant = tenantOf(staged.labels);
    if (tenant === null) return { drop: INVALID_TENANT };
    return { key, entry: { sec: staged.sec, nsec: staged.nsec, line: staged.line, metadata: metadataOut(staged.metadata, metadata) }, tenant };
  }

  /**
   * A fresh extracted map holding the stream's labels, built property by property from an
   * ordinary object kept for the last stream. (`{ ...labels }` looks cheaper but is not: V8
   * gives an object made by spreading a map on which every property added afterwards, here
   * each value a json stage extracts, costs microseconds; this costs about 0.1 µs.)
   */
  private extractedFor(stream: FinalLabels): Record<string, unknown> {
    if (stream !== this.templateOf) {
      this.templateOf = stream;
      this.streamFrozen = Object.isFrozen(stream.labels);
      // An assignment to `__proto__` would set the prototype: such a (rare) set is spread instead.
      this.template = Object.hasOwn(stream.labels, "__proto__") ? undefined : { ...stream.labels };
    }
    const template = this.template;
    if (template === undefined) return { ...stream.labels };
    const extracted: Record<string, unknown> = {};
    for (const name in template) extracted[name] = template[name];
    return extracted;
  }

  private keyOf(stream: FinalLabels, labels: Readonly<Labels>): string {
    // A frozen set other than the stream's is one setLabel derived and shares between entries.
    if (Object.isFrozen(labels)) {
      let key = this.frozenKeys.get(labels);
      if (key === undefined) this.frozenKeys.set(labels, (key = keyOfLabels(labels)));
      return key;
    }
    const before = stream.labels;
    let changed: string[] | undefined;
    for (const name in labels) if (labels[name] !== before[name]) (changed ??= []).push(name);
    for (const name in before) if (!Object.hasOwn(labels, name)) (changed ??= []).push(name);
    if (changed === undefined) return stream.key;
    // What changed, unambiguously (length-prefixed); a removed label and an empty one are alike.
    changed.sort();
    let diff = "";
    for (const name of changed) {
      const value = Object.hasOwn(labels, name) ? labels[name] : "";
      diff += `${name.length}:${name}${value.length}:${value}`;
    }
    let perStream = this.keys.get(stream.key);
    if (perStream === undefined) {
      perStream = new GenerationalCache<string>(1_000);
      this.keys.set(stream.key, perStream);
    }
    let key = perStream.get(diff);
    if (key === undefined) perStream.set(diff, (key = keyOfLabels(labels)));
    return key;
  }
}

/** Counts one entry dropped for `reason` (a stage's drop_counter_reason, empty_line, invalid_tenant, ...). */
export function countDrop(dropped: Record<string, number>, reason: string): void {
  dropped[reason] = (dropped[reason] ?? 0) + 1;
}

/** The stream selector of a label set, without its empty labels (NO_LABELS when only `__tenant_id__`, or nothing, is left). */
function keyOfLabels(labels: Readonly<Labels>): string {
  const nonEmpty = newLabels();
  for (const name of Object.keys(labels)) if (labels[name] !== "") nonEmpty[name] = labels[name];
  return hasStreamLabels(nonEmpty) ? formatLabels(nonEmpty) : NO_LABELS;
}

/** The metadata an entry leaves the stages with: the one it came with when no stage changed it. */
function metadataOut(staged: Readonly<Metadata>, original: Metadata | undefined): Metadata | undefined {
  if (staged === NO_METADATA) return undefined;
  // Frozen metadata comes from the shipper, which never puts empty values in it.
  if (staged === original) return original;
  return nonEmpty(staged as Metadata);
}

function nonEmpty(metadata: Metadata): Metadata | undefined {
  let kept = false;
  for (const name in metadata) {
    if (metadata[name] === "") delete metadata[name];
    else kept = true;
  }
  return kept ? metadata : undefined;
}
