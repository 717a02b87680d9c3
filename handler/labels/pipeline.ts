/**
 * From a source's base labels to the final labels of a Loki stream, in the order of the Go
 * lambda-promtail: base labels merged with EXTRA_LABELS (extra wins), DROP_LABELS removed,
 * RELABEL_CONFIGS applied. An empty result, or a relabel drop, means the entries are dropped.
 * A `__tenant_id__` label the result holds picks the entries' tenant and is no stream label.
 */
import type { Labels } from "../types";
import { formatLabels, isValidLabelName, isValidLabelValue, newLabels } from "./names";
import { RelabelRule, relabel } from "./relabel";
import { hasStreamLabels, isValidTenantId, TENANT_ID_FORM, TENANT_LABEL, tenantOf } from "./tenant";

export interface LabelPipelineOptions {
  extraLabels: Labels;
  dropLabels: readonly string[];
  relabelRules: readonly RelabelRule[];
  /** Distinct base label sets remembered (at most); default 10,000; 0 disables the cache. */
  cacheSize?: number;
}

/**
 * Final labels of a stream. Shared between calls with the same base labels and frozen:
 * callers must not mutate them (copy first).
 */
export interface FinalLabels {
  readonly labels: Readonly<Labels>;
  /** `formatLabels(labels)`: the stream selector, also the identity of the stream. */
  readonly key: string;
  /**
   * The tenant `labels` pick (`__tenant_id__`, see ./tenant.ts): undefined for TENANT_ID, null
   * when the value is no tenant id Loki accepts. Stages may still change it.
   */
  readonly tenant?: string | null;
}

export const DEFAULT_LABEL_CACHE_SIZE = 10_000;

/** Marks a cached "dropped" result, so that a miss and a drop are told apart with one lookup. */
const DROPPED = Symbol("dropped");

/**
 * Returns a function from base labels to final labels (or null when dropped). Results are
 * memoized per distinct base label set, because every entry of a log group or S3 object shares
 * one (see `GenerationalCache` for the eviction policy).
 */
export function createLabelPipeline(opts: LabelPipelineOptions): (base: Labels) => FinalLabels | null {
  const cacheSize = opts.cacheSize ?? DEFAULT_LABEL_CACHE_SIZE;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) {
    throw new Error(`label cache size must be a non-negative integer, got ${cacheSize}`);
  }
  const extraLabels = newLabels(opts.extraLabels);
  const dropLabels = [...opts.dropLabels];
  const rules = [...opts.relabelRules];

  const compute = (base: Labels): FinalLabels | null => {
    const merged = mergeAndDrop(base, extraLabels, dropLabels);
    const relabeled = relabel(merged, rules);
    if (relabeled === null || !hasStreamLabels(relabeled)) return null;
    return Object.freeze({ labels: Object.freeze(relabeled), key: formatLabels(relabeled), tenant: tenantOf(relabeled) });
  };
  if (cacheSize === 0) return compute;

  const cache = new GenerationalCache<FinalLabels | typeof DROPPED>(cacheSize);
  return (base: Labels): FinalLabels | null => {
    const key = canonicalLabelsKey(base);
    let result = cache.get(key);
    if (result === undefined) {
      result = compute(base) ?? DROPPED;
      cache.set(key, result);
    }
    return result === DROPPED ? null : result;
  };
}

/**
 * A bounded cache that evicts the oldest entries, in O(1) and without touching the map on a
 * hit to a recent entry: entries live in a young and an old generation of at most half the
 * capacity each; a hit in the old generation promotes the entry; when the young generation is
 * full, the old one (the least recently used entries) is dropped and the young one becomes old.
 */
export class GenerationalCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private readonly generationSize: number;

  constructor(capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: string): V | undefined {
    const recent = this.young.get(key);
    if (recent !== undefined) return recent;
    const older = this.old.get(key);
    if (older !== undefined) {
      this.old.delete(key);
      this.set(key, older);
    }
    return older;
  }

  set(key: string, value: V): void {
    this.young.set(key, value);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}

/**
 * Base labels, then extra labels over them, without the dropped names. Empty values are left
 * out: Prometheus and Loki treat an empty value as an absent label, and relabel rules read a
 * missing label as "" anyway.
 */
function mergeAndDrop(base: Labels, extra: Labels, drop: readonly string[]): Labels {
  const merged = newLabels();
  for (const name of Object.keys(base)) {
    if (base[name] !== "") merged[name] = base[name];
  }
  for (const name of Object.keys(extra)) {
    if (extra[name] !== "") merged[name] = extra[name];
  }
  for (const name of drop) delete merged[name];
  return merged;
}

/**
 * An unambiguous identity for a label set whatever the order of its keys: sorted names, each
 * name and value prefixed with its length, so no choice of characters can make two sets collide.
 * Any fixed order will do here, so the engine's native sort is used (faster than byte order).
 */
export function canonicalLabelsKey(labels: Labels): string {
  let key = "";
  for (const name of Object.keys(labels).sort()) {
    const value = labels[name];
    key += `${name.length}:${name}${value.length}:${value}`;
  }
  return key;
}

const EXTRA_PREFIX = "__extra_";

/**
 * Parses EXTRA_LABELS, `name1,value1,name2,value2`: names get the `__extra_` prefix unless
 * `omitPrefix`. Names are trimmed (a name with spaces would be invalid anyway); values are
 * kept verbatim, as the Go lambda-promtail does. The empty string means no extra labels.
 */
export function parseExtraLabels(raw: string, omitPrefix: boolean): Labels {
  const labels: Labels = newLabels();
  if (raw === "") return labels;
  const parts = raw.split(",");
  if (parts.length % 2 !== 0) {
    throw new Error(`expected an even number of comma-separated items (name,value pairs), got ${parts.length}`);
  }
  for (let i = 0; i < parts.length; i += 2) {
    const name = (omitPrefix ? "" : EXTRA_PREFIX) + parts[i].trim();
    const value = parts[i + 1];
    if (!isValidLabelName(name)) throw new Error(`${JSON.stringify(name)} is not a valid label name`);
    if (value === "") throw new Error(`the value of ${JSON.stringify(name)} is empty (an empty value means no label)`);
    if (!isValidLabelValue(value)) throw new Error(`the value of ${JSON.stringify(name)} is not valid Unicode`);
    // Every entry would be dropped as invalid_tenant: a setting that ships nothing is an error.
    if (name === TENANT_LABEL && !isValidTenantId(value)) throw new Error(`the value of ${JSON.stringify(name)}, ${JSON.stringify(value)}, is not a tenant id Loki accepts (${TENANT_ID_FORM})`);
    if (Object.hasOwn(labels, name)) throw new Error(`label ${JSON.stringify(name)} is given twice`);
    labels[name] = value;
  }
  return labels;
}

/**
 * Parses DROP_LABELS, comma-separated label names. Surrounding spaces are trimmed and empty
 * items (a trailing comma) ignored; an invalid name is an error rather than a silent no-op.
 */
export function parseDropLabels(raw: string): string[] {
  const names: string[] = [];
  for (const item of raw.split(",")) {
    const name = item.trim();
    if (name === "") continue;
    if (!isValidLabelName(name)) throw new Error(`${JSON.stringify(name)} is not a valid label name`);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
