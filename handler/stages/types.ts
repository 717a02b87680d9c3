/**
 * The contract between the pipeline stages (LOKI_STAGE_CONFIGS) and the rest of the shipper.
 * One module per stage under `handler/stages/`; each exports a factory registered by name.
 *
 * Semantics follow Promtail's `clients/pkg/logentry/stages`: every stage sees one entry at a
 * time, with the `extracted` map (initialised from the entry's labels, filled by parsing
 * stages, read by label/template/timestamp/output stages), and may change the line, the
 * timestamp, the labels (`__tenant_id__` picks the tenant), the structured metadata, or drop
 * the entry.
 */
import { newLabels } from "../labels/names";
import type { Labels, Log, Metadata } from "../types";

/**
 * The view of one entry while it passes through the stages.
 *
 * `labels` and `metadata` are copy-on-write: the runner hands every entry of a stream the
 * stream's own (frozen) label set and the entry's (frozen) metadata, because most stages only
 * read them and a copy per entry was the runner's largest cost. Read them directly; change
 * them only through `writableLabels(entry)` / `writableMetadata(entry)`, which copy a frozen
 * set on the first change. (The types are read-only so that a direct write does not compile.)
 */
export interface StageEntry {
  /** The entry's stream labels (after EXTRA_LABELS, DROP_LABELS, RELABEL_CONFIGS). Stages may add or remove labels through `writableLabels`. */
  labels: Readonly<Labels>;
  /**
   * Promtail's extracted map: starts as a copy of `labels`; parsing stages (json, logfmt,
   * regex, ...) add values. Values are strings, numbers, booleans, null, arrays or objects
   * (a `json` stage may extract a whole object).
   */
  extracted: Record<string, unknown>;
  line: string;
  /** Timestamp: whole seconds since the epoch and nanoseconds within that second (see LogEntry). */
  sec: number;
  nsec: number;
  /** Structured metadata of this entry (stages may add fields through `writableMetadata`). */
  metadata: Readonly<Metadata>;
}

/**
 * Writes one value into an extracted map or a metadata object. Those are ordinary objects (one
 * without a prototype made every write measurably slower), on which an assignment to
 * `__proto__` calls Object.prototype's setter and the value is silently lost: that one name is
 * defined as an own property instead. Reads need nothing: an own `__proto__` shadows the setter.
 */
export function setValue(map: Record<string, unknown>, name: string, value: unknown): void {
  if (name === "__proto__") Object.defineProperty(map, name, { value, writable: true, enumerable: true, configurable: true });
  else map[name] = value;
}

/** The entry's labels, ready to change: a frozen (shared) set is replaced by the entry's own copy first. */
export function writableLabels(entry: StageEntry): Labels {
  if (Object.isFrozen(entry.labels)) entry.labels = newLabels(entry.labels);
  return entry.labels as Labels;
}

/** Values remembered per label set and name (see withLabel); beyond this a label set is copied. */
export const MAX_LABEL_TRANSITIONS = 1_000;

/**
 * Frozen label set -> label name -> value -> the frozen set with that label set to that value.
 * Held weakly by the set it starts from: a stream's sets go when its labels go.
 */
const transitions = new WeakMap<Readonly<Labels>, Map<string, Map<string, Readonly<Labels>>>>();

/**
 * Sets one label of the entry (a non-empty value). A frozen (shared) label set is not copied for
 * each entry: the set it becomes is remembered and shared too, so a `labels` stage setting
 * `level` from a few distinct values costs a lookup per entry instead of a copy of the set and a
 * new stream key (the runner keys a frozen set once). A label taking more than
 * MAX_LABEL_TRANSITIONS values on one set is written into the entry's own copy instead.
 */
export function setLabel(entry: StageEntry, name: string, value: string): void {
  const labels = entry.labels;
  if (labels[name] === value) return;
  if (!Object.isFrozen(labels)) {
    (labels as Labels)[name] = value;
    return;
  }
  let byName = transitions.get(labels);
  if (byName === undefined) transitions.set(labels, (byName = new Map()));
  let byValue = byName.get(name);
  if (byValue === undefined) byName.set(name, (byValue = new Map()));
  let next = byValue.get(value);
  if (next === undefined) {
    if (byValue.size >= MAX_LABEL_TRANSITIONS) {
      writableLabels(entry)[name] = value;
      return;
    }
    const copy = newLabels(labels);
    copy[name] = value;
    byValue.set(value, (next = Object.freeze(copy)));
  }
  entry.labels = next;
}

/** The entry's structured metadata, ready to change: a frozen (shared) object is replaced by the entry's own copy first. */
export function writableMetadata(entry: StageEntry): Metadata {
  const metadata = entry.metadata;
  if (!Object.isFrozen(metadata)) return metadata as Metadata;
  // An assignment to `__proto__` would set the prototype: such (rare) metadata is spread instead.
  if (Object.hasOwn(metadata, "__proto__")) return (entry.metadata = { ...metadata });
  // Built by assignment: a spread object makes every field added afterwards slow (see StageRunner.extractedFor).
  const copy: Metadata = {};
  for (const name in metadata) copy[name] = metadata[name];
  return (entry.metadata = copy);
}

/** What a stage answers for one entry. */
export type StageResult =
  | undefined /* keep going with the (possibly changed) entry */
  | { drop: string } /* drop the entry; the string is the reason counted (drop_counter_reason) */;

/** Per-entry services a stage may need; one per shipper/extension runtime. */
export interface StageContext {
  log: Log;
  /** Wall-clock milliseconds. Only `drop.older_than`, `limit` and `sampling` may look at it; timestamps never come from it unless a user asks (`pack.ingest_timestamp: true`). */
  now(): number;
  /** A number in [0, 1): `sampling`'s randomness (Math.random unless a test pins it). */
  random(): number;
}

export interface Stage {
  /** The stage's name as written in the configuration, e.g. "json". */
  readonly name: string;
  process(entry: StageEntry, ctx: StageContext): StageResult;
}

/**
 * Builds a stage from its options. `where` names the stage's position for error messages,
 * e.g. `LOKI_STAGE_CONFIGS[2].json`; factories throw `ConfigError` (from ../config) naming
 * `where` + the option and the accepted form. `compileNested` builds nested stage lists (match).
 */
export type StageFactory = (
  options: unknown,
  where: string,
  compileNested: (stages: unknown, where: string) => Stage[],
) => Stage;
