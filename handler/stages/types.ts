/**
 * The contract between the pipeline stages (LOKI_STAGE_CONFIGS) and the rest of the shipper.
 * One module per stage under `handler/stages/`; each exports a factory registered by name.
 *
 * Semantics follow Promtail's `clients/pkg/logentry/stages`: every stage sees one entry at a
 * time, with the `extracted` map (initialised from the entry's labels, filled by parsing
 * stages, read by label/template/timestamp/output stages), and may change the line, the
 * timestamp, the labels, the structured metadata, the tenant, or drop the entry.
 */
import type { Labels, Log, Metadata } from "../types";

/** The mutable view of one entry while it passes through the stages. */
export interface StageEntry {
  /** The entry's stream labels (after EXTRA_LABELS, DROP_LABELS, RELABEL_CONFIGS). Stages may add or remove labels. */
  labels: Labels;
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
  /** Structured metadata of this entry (stages may add fields). */
  metadata: Metadata;
  /** Set by the `tenant` stage: the X-Scope-OrgID this entry is pushed under. */
  tenant?: string;
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
