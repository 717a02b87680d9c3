/**
 * The `timestamp` stage (Promtail's): sets the entry's timestamp from an extracted value parsed
 * with a Go layout or a named format (handler/stages/gotime.ts).
 *
 * Options: `source` (extracted name, required), `format` (required), `fallback_formats` (tried
 * in order when `format` fails), `location` (IANA zone for layouts without an offset),
 * `action_on_failure`: `fudge` (default: the last timestamp parsed for the same label set plus
 * 1 ns, so lines that fail to parse keep their order after the one before them; the entry's
 * own timestamp when none is known yet) or `skip` (keep the entry's timestamp).
 *
 * The fudge memory is held by the stage object, so it lives as long as the warm container, for
 * up to 10 000 label sets (least recently used dropped first), as Promtail's LRU.
 */
import { ConfigError } from "../config-error";
import type { Labels } from "../types";
import { compareCodePoints, sortedLabelNames } from "../labels/names";
import { valueToString } from "./values";
import { compileTimeFormat, layoutElementCount, loadLocation, NAMED_TIME_FORMATS, parseRFC3339Into, triesRFC3339First, UTC, type Instant, type Location, type TimeParser } from "./gotime";
import { StageOptions } from "./stage-options";
import type { Stage, StageContext, StageEntry, StageFactory } from "./types";

const OPTIONS = ["source", "format", "fallback_formats", "location", "action_on_failure"] as const;
const ACTION_FORM = "fudge (the default) or skip";
const FORMAT_FORM = `one of ${NAMED_TIME_FORMATS.join(", ")}, or a Go layout written with the reference time Mon Jan 2 15:04:05 MST 2006, e.g. "2006-01-02T15:04:05.000Z07:00"`;

/** Label sets whose last timestamp is remembered for `fudge` (Promtail's cache size). */
export const MAX_FUDGE_STREAMS = 10_000;

export const timestamp: StageFactory = (options, where) => {
  const opts = new StageOptions(options, where, OPTIONS);
  const source = opts.requiredString("source", "the name of an extracted value holding the time");
  const format = opts.requiredString("format", FORMAT_FORM);
  const fallbacks = opts.stringList("fallback_formats", `a list of formats, each ${FORMAT_FORM}`) ?? [];
  const locationName = opts.string("location", 'an IANA time zone name such as "Europe/Paris" or "UTC"');
  const action = opts.string("action_on_failure", ACTION_FORM, "fudge");
  if (action !== "fudge" && action !== "skip") opts.fail("action_on_failure", `${JSON.stringify(action)} is not supported`, ACTION_FORM);

  let location: Location = UTC;
  if (locationName !== undefined) {
    try {
      location = loadLocation(locationName);
    } catch (err) {
      throw new ConfigError(`${where}.location`, (err as Error).message, 'an IANA time zone name such as "Europe/Paris" or "UTC"');
    }
  }
  const parsers = [
    compileFormat(format, location, `${where}.format`),
    ...fallbacks.map((f, i) => compileFormat(f, location, `${where}.fallback_formats[${i}]`)),
  ];
  return new TimestampStage(source, parsers, [format, ...fallbacks].map(triesRFC3339First), action === "fudge");
};

function compileFormat(format: string, location: Location, setting: string): TimeParser {
  if (format === "") throw new ConfigError(setting, "empty", FORMAT_FORM);
  if (!NAMED_TIME_FORMATS.includes(format) && layoutElementCount(format) === 0) {
    throw new ConfigError(setting, `${JSON.stringify(format)} is neither a named format nor a Go layout (it contains no element of the reference time, so it would only match itself)`, FORMAT_FORM);
  }
  return compileTimeFormat(format, location);
}

class TimestampStage implements Stage {
  readonly name = "timestamp";
  /**
   * Label-set key -> last timestamp parsed or fudged (insertion order = recency), but for the
   * most recent label set: its key and time are held in `newest`/`newestSec`/`newestNsec` (most
   * entries continue the stream of the entry before, which then costs no map write and no object).
   */
  private readonly last = new Map<string, Instant>();
  private newest: string | undefined;
  private newestSec = 0;
  private newestNsec = 0;
  /** Where parseRFC3339Into writes: parsed times are copied out of it at once. */
  private readonly parsed: Instant = { sec: 0, nsec: 0 };
  /** The last frozen label set seen and its key: a stream's entries share one frozen set (see StageEntry). */
  private keyedLabels: Readonly<Labels> | undefined;
  private labelsKey = "";

  constructor(
    private readonly source: string,
    private readonly parsers: readonly TimeParser[],
    /** Per parser: whether it tries parseRFC3339 first, which this stage then does without an Instant per entry. */
    private readonly rfc3339First: readonly boolean[],
    private readonly fudge: boolean,
  ) {}

  process(entry: StageEntry, ctx: StageContext): undefined {
    const parsed = this.parse(entry, ctx);
    if (parsed !== undefined) {
      entry.sec = parsed.sec;
      entry.nsec = parsed.nsec;
      if (this.fudge) this.remember(this.keyOf(entry.labels), parsed.sec, parsed.nsec);
      return undefined;
    }
    if (!this.fudge) return undefined;
    const key = this.keyOf(entry.labels);
    let sec: number;
    let nsec: number;
    if (key === this.newest) {
      sec = this.newestSec;
      nsec = this.newestNsec;
    } else {
      const last = this.last.get(key);
      // Nothing parsed yet for this label set: the entry keeps its own timestamp.
      if (last === undefined) return undefined;
      sec = last.sec;
      nsec = last.nsec;
    }
    if (nsec === 999_999_999) {
      sec++;
      nsec = 0;
    } else nsec++;
    entry.sec = sec;
    entry.nsec = nsec;
    this.remember(key, sec, nsec);
    return undefined;
  }

  /** The time the entry's source value gives, or undefined; the Instant answered may be reused by the next call. */
  private parse(entry: StageEntry, ctx: StageContext): Readonly<Instant> | undefined {
    if (!Object.hasOwn(entry.extracted, this.source)) return undefined;
    const text = valueToString(entry.extracted[this.source]);
    if (text === undefined) return undefined;
    let firstError: unknown;
    for (let i = 0; i < this.parsers.length; i++) {
      // What the parser would try first; when it declines, the parser tries it again and goes on.
      if (this.rfc3339First[i] && parseRFC3339Into(text, this.parsed)) return this.parsed;
      try {
        return this.parsers[i](text, ctx.now);
      } catch (err) {
        firstError ??= err;
      }
    }
    ctx.log.debug("timestamp stage could not parse the time", { source: this.source, value: text, error: (firstError as Error).message });
    return undefined;
  }

  /** streamKey, computed once per frozen label set (it cannot change) rather than per entry. */
  private keyOf(labels: Readonly<Labels>): string {
    if (labels === this.keyedLabels) return this.labelsKey;
    const key = streamKey(labels);
    if (Object.isFrozen(labels)) {
      this.keyedLabels = labels;
      this.labelsKey = key;
    }
    return key;
  }

  private remember(key: string, sec: number, nsec: number): void {
    if (key !== this.newest) {
      // The label set the time was remembered for until now moves into the map.
      if (this.newest !== undefined) this.last.set(this.newest, { sec: this.newestSec, nsec: this.newestNsec });
      this.last.delete(key);
      this.newest = key;
    }
    this.newestSec = sec;
    this.newestNsec = nsec;
    if (this.last.size < MAX_FUDGE_STREAMS) return;
    // The label sets remembered: the map's and the newest.
    const oldest = this.last.keys().next().value as string;
    this.last.delete(oldest);
  }
}

/** A label set's identity: names in order with their values, separated by characters labels never hold. */
function streamKey(labels: Readonly<Labels>): string {
  // Label sets usually arrive with their names in order already: no array, no sort for them.
  let key = "";
  let previous: string | undefined;
  for (const name in labels) {
    if (previous !== undefined && compareCodePoints(previous, name) > 0) return sortedStreamKey(labels);
    key += name + "\u0000" + labels[name] + "\u0001";
    previous = name;
  }
  return key;
}

function sortedStreamKey(labels: Readonly<Labels>): string {
  let key = "";
  for (const name of sortedLabelNames(labels)) key += name + "\u0000" + labels[name] + "\u0001";
  return key;
}
