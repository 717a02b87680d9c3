/**
 * The `pack` stage (Promtail's): wraps the line into a JSON object holding the named extracted
 * values (labels are extracted values too) and the line under `_entry`, e.g.
 * `{"container":"web","_entry":"GET / 200"}`, and removes those labels from the stream, so
 * that high-cardinality labels move into the line (LogQL's `| unpack` restores them).
 *
 * As in Promtail: keys sorted, `_entry` last, strings escaped as Go's json.Marshal does; a
 * value without text (an object, null) is left out and its label kept. Unlike Promtail, the
 * entry keeps its own timestamp unless `ingest_timestamp: true` is set explicitly (Promtail
 * stamps packed entries with the clock by default): a retried record then gives identical
 * entries, which Loki deduplicates.
 */
import { goJson } from "./json";
import { StageOptions } from "./stage-options";
import { type Stage, type StageFactory, writableLabels } from "./types";
import { valueToString } from "./values";

/** The key of the original line in a packed one (Loki's logqlmodel.PackedEntryKey). */
export const PACKED_ENTRY_KEY = "_entry";

export const packStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["labels", "ingest_timestamp"]);
  const form = 'a list of extracted or label names, e.g. ["container","pod"]';
  const names = [...new Set(options.stringList("labels", form) ?? [])].sort(byBytes);
  if (names.some((name) => name === "")) throw options.fail("labels", "names an empty label", form);
  const ingestTimestamp = options.boolean("ingest_timestamp", false);
  return {
    name: "pack",
    process(entry, ctx) {
      let line = "{";
      const packed: string[] = [];
      for (const name of names) {
        if (!Object.hasOwn(entry.extracted, name)) continue;
        const value = valueToString(entry.extracted[name]);
        if (value === undefined) continue;
        line += `${goJson(name)}:${goJson(value)},`;
        packed.push(name);
      }
      entry.line = `${line}"${PACKED_ENTRY_KEY}":${goJson(entry.line)}}`;
      if (packed.length > 0) {
        const labels = writableLabels(entry);
        for (const name of packed) delete labels[name];
      }
      if (ingestTimestamp) {
        // Asked for explicitly: the clock, as Promtail does by default (a retry then duplicates the line).
        const ms = ctx.now();
        entry.sec = Math.floor(ms / 1000);
        entry.nsec = Math.round((ms - entry.sec * 1000) * 1e6);
      }
      return undefined;
    },
  } satisfies Stage;
};

/** Go's sort.Strings order (bytes of UTF-8), which for label names is code-unit order. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
