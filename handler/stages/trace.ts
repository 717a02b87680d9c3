/**
 * What each stage did to one entry, for `npm run replay -- --trace`: a user can debug a
 * LOKI_STAGE_CONFIGS pipeline on a sample line without deploying it.
 */
import type { Stage, StageContext, StageEntry } from "./types";

export interface StageStep {
  /** Position and name, e.g. `[1] labels`. */
  stage: string;
  /** Human-readable changes; empty when the stage changed nothing. */
  changes: string[];
  /** Set when the stage dropped the entry (the trace stops there). */
  dropped?: string;
}

interface Snapshot {
  line: string;
  sec: number;
  nsec: number;
  labels: Record<string, string>;
  extracted: Record<string, unknown>;
  metadata: Record<string, string>;
}

/** Runs the stages one by one on `entry` (changing it as the shipper would) and records each one's effect. */
export function traceStages(stages: readonly Stage[], entry: StageEntry, ctx: StageContext): StageStep[] {
  const steps: StageStep[] = [];
  for (let i = 0; i < stages.length; i++) {
    const before = snapshot(entry);
    const result = stages[i].process(entry, ctx);
    const step: StageStep = { stage: `[${i}] ${stages[i].name}`, changes: diff(before, snapshot(entry)) };
    steps.push(step);
    if (result !== undefined) {
      step.dropped = result.drop;
      break;
    }
  }
  return steps;
}

function snapshot(entry: StageEntry): Snapshot {
  return {
    line: entry.line, sec: entry.sec, nsec: entry.nsec,
    labels: { ...entry.labels }, extracted: { ...entry.extracted }, metadata: { ...entry.metadata },
  };
}

function diff(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  if (a.line !== b.line) out.push(`line: ${show(a.line)} -> ${show(b.line)}`);
  if (a.sec !== b.sec || a.nsec !== b.nsec) out.push(`timestamp: ${iso(a.sec, a.nsec)} -> ${iso(b.sec, b.nsec)}`);
  out.push(...mapDiff("label", a.labels, b.labels), ...mapDiff("extracted", a.extracted, b.extracted), ...mapDiff("metadata", a.metadata, b.metadata));
  return out;
}

function mapDiff(what: string, a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(b)) {
    if (!Object.hasOwn(a, name)) out.push(`${what} ${name} = ${show(b[name])}`);
    else if (a[name] !== b[name]) out.push(`${what} ${name}: ${show(a[name])} -> ${show(b[name])}`);
  }
  for (const name of Object.keys(a)) if (!Object.hasOwn(b, name)) out.push(`${what} ${name} removed`);
  return out;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? "undefined";
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function iso(sec: number, nsec: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(nsec).padStart(9, "0")}Z`;
}
