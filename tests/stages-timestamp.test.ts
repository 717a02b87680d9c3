import { expect } from "chai";
import { ConfigError } from "../handler/config";
import { compileTimeFormat, loadLocation, parseRFC3339, triesRFC3339First, type Instant } from "../handler/stages/gotime";
import { formatGoFloat } from "../handler/stages/values";
import { MAX_FUDGE_STREAMS, timestamp } from "../handler/stages/timestamp";
import { seededRandom } from "../bench/support";
import { noNested, stageContext, stageEntry } from "./support/stages";

/** "2019-10-01T01:02:03.400000001Z" -> seconds + nanoseconds, exactly. */
function instant(iso: string): Instant {
  const m = /^(.*?)(?:\.([0-9]{1,9}))?Z$/.exec(iso);
  if (!m) throw new Error(`bad expectation ${iso}`);
  return { sec: Date.parse(m[1] + "Z") / 1000, nsec: Number((m[2] ?? "").padEnd(9, "0")) };
}

const JULY_2026 = Date.UTC(2026, 6, 1, 12);

describe("Go time layouts (handler/stages/gotime.ts)", () => {
  // [format, value, expected instant (UTC) or error substring, location?, now?]
  const cases: [string, string, string, string?, number?][] = [
    // Named formats, from Go's package time constants.
    ["RFC3339", "2012-11-01T22:08:41-04:00", "2012-11-02T02:08:41Z"],
    ["RFC3339", "2012-11-01T22:08:41Z", "2012-11-01T22:08:41Z"],
    ["RFC3339", "2012-11-01T22:08:41.123456789Z", "2012-11-01T22:08:41.123456789Z"], // fraction after seconds is always accepted
    ["RFC3339", "2012-11-01 22:08:41Z", 'cannot parse " 22:08:41Z" as "T"'],
    ["RFC3339", "2012-11-01T22:08:41+01:00 trailing", 'extra text: " trailing"'],
    ["RFC3339Nano", "2019-10-01T01:02:03.400000001Z", "2019-10-01T01:02:03.400000001Z"],
    ["RFC3339Nano", "2019-10-01T01:02:03Z", "2019-10-01T01:02:03Z"], // .999… may be absent
    ["RFC3339Nano", "2019-10-01T01:02:03.1234567891Z", "2019-10-01T01:02:03.123456789Z"], // beyond 9 digits: truncated
    ["ANSIC", "Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z"],
    ["ANSIC", "Thu Feb 12 15:04:05 2015", "2015-02-12T15:04:05Z"],
    ["ANSIC", "Xyz Feb 12 15:04:05 2015", 'cannot parse "Xyz Feb 12 15:04:05 2015" as "Mon"'], // weekday checked for syntax
    ["UnixDate", "Mon Jan  2 15:04:05 MST 2006", "2006-01-02T15:04:05Z"], // unknown abbreviation: offset 0, as Go
    ["UnixDate", "Mon Jan  2 15:04:05 EST 2006", "2006-01-02T15:04:05Z", "America/New_York"], // named formats ignore location (Promtail)
    ["RubyDate", "Mon Jan 02 15:04:05 -0700 2006", "2006-01-02T22:04:05Z"],
    ["RFC822", "02 Jan 06 15:04 MST", "2006-01-02T15:04:00Z"],
    ["RFC822", "02 JAN 06 15:04 UTC", "2006-01-02T15:04:00Z"], // month names are case-insensitive
    ["RFC822Z", "02 Jan 06 15:04 -0700", "2006-01-02T22:04:00Z"],
    ["RFC850", "Monday, 02-Jan-06 15:04:05 MST", "2006-01-02T15:04:05Z"],
    ["RFC1123", "Mon, 02 Jan 2006 15:04:05 GMT+3", "2006-01-02T12:04:05Z"], // GMT±h carries its offset
    ["RFC1123", "Mon, 02 Jan 2006 15:04:05 UTC", "2006-01-02T15:04:05Z"],
    ["RFC1123", "Mon, 2 Jan 2006 15:04:05 UTC", 'cannot parse "2 Jan 2006 15:04:05 UTC" as "02"'],
    ["RFC1123Z", "Mon, 02 Jan 2006 15:04:05 +0100", "2006-01-02T14:04:05Z"],
    // Year-less named formats: the current year.
    ["Kitchen", "3:04PM", "2026-01-01T15:04:00Z"],
    ["Stamp", "Jul 15 01:02:03", "2026-07-15T01:02:03Z"],
    ["Stamp", "Jul  5 01:02:03", "2026-07-05T01:02:03Z"],
    ["StampMilli", "Jul 15 01:02:03.123", "2026-07-15T01:02:03.123Z"],
    ["StampMicro", "Jul 15 01:02:03.123456", "2026-07-15T01:02:03.123456Z"],
    ["StampNano", "Jul 15 01:02:03.123456789", "2026-07-15T01:02:03.123456789Z"],
    // Epoch formats.
    ["Unix", "1562708916", "2019-07-09T21:48:36Z"],
    ["Unix", "1562708916.414123", "2019-07-09T21:48:36.414123Z"],
    ["Unix", "1562708916.000000123", "2019-07-09T21:48:36.000000123Z"],
    ["Unix", "-1.5", "1969-12-31T23:59:59.5Z"],
    ["Unix", "1.2.3", 'parsing "1.2.3" as Unix'],
    ["Unix", "abc", 'parsing "abc" as Unix'],
    ["UnixMs", "1562708916414", "2019-07-09T21:48:36.414Z"],
    ["UnixMs", "-1", "1969-12-31T23:59:59.999Z"],
    ["UnixMs", "1562708916.414", "invalid syntax"],
    ["UnixUs", "1562708916414123", "2019-07-09T21:48:36.414123Z"],
    ["UnixNs", "1562708916000000123", "2019-07-09T21:48:36.000000123Z"], // beyond 2^53: exact
    ["UnixNs", "9223372036854775807", "2262-04-11T23:47:16.854775807Z"],
    ["UnixNs", "9223372036854775808", "value out of range"],
    // Written-out layouts.
    ["02/Jan/2006:15:04:05 -0700", "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z"],
    ["2006-01-02 15:04:05,000", "2024-05-06 07:08:09,123", "2024-05-06T07:08:09.123Z"],
    ["2006-01-02 15:04:05.000", "2024-05-06 07:08:09,123", "2024-05-06T07:08:09.123Z"], // either separator in the value
    ["2006-01-02 15:04:05.000", "2024-05-06 07:08:09.12", 'cannot parse ".12" as ".000"'], // .000 wants exactly 3 digits
    ["2006-01-02 15:04:05.999", "2024-05-06 07:08:09", "2024-05-06T07:08:09Z"],
    ["2006-01-02 15:04:05.999999", "2024-05-06 07:08:09.5", "2024-05-06T07:08:09.5Z"],
    ["2006-01-02T15:04:05Z0700", "2024-05-06T07:08:09+0130", "2024-05-06T05:38:09Z"],
    ["2006-01-02T15:04:05Z07", "2024-05-06T07:08:09-03", "2024-05-06T10:08:09Z"],
    ["2006-01-02T15:04:05-07:00:00", "2024-05-06T07:08:09+01:00:30", "2024-05-06T06:07:39Z"],
    ["2006-01-02 3:04:05 PM", "2024-05-06 12:00:00 AM", "2024-05-06T00:00:00Z"],
    ["2006-01-02 3:04:05 PM", "2024-05-06 12:30:00 PM", "2024-05-06T12:30:00Z"],
    ["2006-01-02 3:04:05 pm", "2024-05-06 1:30:00 pm", "2024-05-06T13:30:00Z"],
    ["January 2, 2006", "March 9, 2024", "2024-03-09T00:00:00Z"],
    ["2006-002", "2024-060", "2024-02-29T00:00:00Z"], // day of year, leap year
    ["2006-002", "2023-060", "2023-03-01T00:00:00Z"],
    ["2006-002", "2023-366", "day-of-year out of range"],
    ["06-01-02", "69-07-20", "1969-07-20T00:00:00Z"], // two-digit years: 69..99 -> 19xx
    ["06-01-02", "68-07-20", "2068-07-20T00:00:00Z"],
    ["_2006", "_2024", "2024-01-01T00:00:00Z"], // "_2006" is a literal underscore and the year
    ["2006-01-02", "2023-02-29", "day out of range"],
    ["2006-01-02", "2024-13-01", "month out of range"],
    ["2006-01-02 15:04", "2024-01-01 24:00", "hour out of range"],
    ["2006-01-02  15:04", "2024-01-01 15:04", "2024-01-01T15:04:00Z"], // runs of spaces match runs of spaces
    // Locations: a wall clock without an offset is read in the zone.
    ["2006-01-02 15:04:05", "2009-07-01 03:30:20", "2009-07-01T07:30:20Z", "America/New_York"],
    ["2006-01-02 15:04:05", "2024-01-15 12:00:00", "2024-01-15T11:00:00Z", "Europe/Paris"],
    ["2006-01-02 15:04:05", "2024-01-15 12:00:00", "2024-01-15T06:30:00Z", "Asia/Kolkata"],
    ["2006-01-02 15:04:05", "2024-03-10 02:30:00", "2024-03-10T06:30:00Z", "America/New_York"], // in the spring gap: Go's time.Date choice
    ["2006-01-02 15:04:05", "2024-11-03 01:30:00", "2024-11-03T05:30:00Z", "America/New_York"], // repeated hour: the first (EDT), as Go
    ["2006-01-02T15:04:05-07:00", "2024-01-15T12:00:00+02:00", "2024-01-15T10:00:00Z", "Europe/Paris"], // an offset beats the location
    ["Mon Jan _2 15:04:05 MST 2006", "Mon Jan  2 15:04:05 EST 2006", "2006-01-02T20:04:05Z", "America/New_York"],
    ["Mon Jan _2 15:04:05 MST 2006", "Sun Jul  2 15:04:05 EDT 2006", "2006-07-02T19:04:05Z", "America/New_York"],
    ["Mon Jan _2 15:04:05 MST 2006", "Mon Jan  2 15:04:05 CET 2006", "2006-01-02T14:04:05Z", "Europe/Berlin"],
    ["Jan 02 15:04:05", "Jul 15 01:02:03", "2026-07-15T05:02:03Z", "America/New_York"], // year-less in a zone: its summer offset
    ["Jan 02 15:04:05", "Jan 15 01:02:03", "2026-01-15T06:02:03Z", "America/New_York"],
    // Year-less layouts near New Year (Promtail's rule).
    ["Jan 02 15:04:05", "Dec 31 23:59:59", "2026-12-31T23:59:59Z", undefined, Date.UTC(2027, 0, 1, 0, 0, 1)],
    ["Jan 02 15:04:05", "Jan 01 01:02:03", "2027-01-01T01:02:03Z", undefined, Date.UTC(2026, 11, 31, 23, 59, 59)],
    ["Jan 02 15:04:05", "Feb 29 10:00:00", "2026-03-01T10:00:00Z"], // parsed in year 0 (leap), moved like Go's AddDate
  ];
  for (const [format, value, expected, location, now] of cases) {
    it(`${format}${location ? ` in ${location}` : ""}: ${JSON.stringify(value)} -> ${expected}`, () => {
      const parse = compileTimeFormat(format, location === undefined ? undefined : loadLocation(location));
      if (/^-?[0-9]{4}-[0-9]{2}-[0-9]{2}T/.test(expected)) {
        expect(parse(value, () => now ?? JULY_2026)).to.deep.equal(instant(expected));
      } else {
        expect(() => parse(value, () => now ?? JULY_2026)).to.throw(expected);
      }
    });
  }

  describe("the RFC 3339 fast path gives what the general parser gives", () => {
    /** The instant or the error of a parser, for comparing two of them. */
    const outcome = (parse: ReturnType<typeof compileTimeFormat>, value: string): Instant | string => {
      try {
        return parse(value, () => JULY_2026);
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    };
    const VALUES = [
      "2025-11-22T08:00:00Z", "2025-11-22T08:00:00.1Z", "2025-11-22T08:00:00.123456789Z", "2025-11-22T08:00:00.1234567891234Z",
      "2025-11-22T08:00:00.000000000Z", "2025-11-22T08:00:00+05:30", "2025-11-22T08:00:00-00:00", "2025-11-22T08:00:00+23:59",
      "2025-11-22T08:00:00.5-01:00", "1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
      "0000-02-29T12:00:00Z", "9999-12-31T23:59:59.999999999+00:00", "2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
      // The fast path declines these; the general parser decides (some parse, some do not).
      "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-11-31T00:00:00Z", "2025-00-10T00:00:00Z", "2025-13-10T00:00:00Z",
      "2025-11-22T24:00:00Z", "2025-11-22T08:60:00Z", "2025-11-22T08:00:60Z", "2025-11-22T08:00:00+24:00", "2025-11-22T08:00:00+05:60",
      "2025-11-22T08:00:00,123Z", "2025-11-22T08:00:00.Z", "2025-11-22T08:00:00.", "2025-11-22t08:00:00Z", "2025-11-22T08:00:00z",
      "2025-11-22T08:00:00", "2025-11-22T08:00:00+0530", "2025-11-22T08:00:00+05:30:00", "2025-11-22T08:00:00+5:30", "2025-11-22T08:00:00 Z",
      " 2025-11-22T08:00:00Z", "2025-11-22T08:00:00Z ", "2025-11-22 08:00:00Z", "2025-1-22T08:00:00Z", "+2025-11-22T08:00:00Z",
      "-025-11-22T08:00:00Z", "20251-11-22T08:00:00Z", "2025-11-22T8:00:00Z", "２０２５-11-22T08:00:00Z", "2025-11-22T08:00:00.12a3Z",
      "2025-11-22T08:00:00.123+05:3a", "2025-11-22T08:00:00-", "2025-11-22T08:00:00.123456789Z07:00", "", "Z", "2025-11-22T08:00:00ZZ",
      "2025-11-22T08:00:00.-1Z", "2025-11-22T08:00:00.+1Z", "2025-11-22T08:00:00+-5:30", "2025-11-22T08:00:00+05:-3",
    ];
    /** Seeded mutations of valid values: one character replaced, inserted or removed. */
    function mutations(count: number): string[] {
      const rnd = seededRandom(7);
      const alphabet = "0123456789-+:.,TZtz ";
      const out: string[] = [];
      for (let i = 0; i < count; i++) {
        const base = VALUES[Math.floor(rnd() * 16)];
        const at = Math.floor(rnd() * (base.length + 1));
        const ch = alphabet[Math.floor(rnd() * alphabet.length)];
        const op = Math.floor(rnd() * 3);
        out.push(op === 0 ? base.slice(0, at) + ch + base.slice(at + 1) : op === 1 ? base.slice(0, at) + ch + base.slice(at) : base.slice(0, at) + base.slice(at + 1));
      }
      return out;
    }
    const layouts: [string, string?][] = [["RFC3339"], ["RFC3339Nano"], ["2006-01-02T15:04:05Z07:00", "America/New_York"], ["2006-01-02T15:04:05.999999999Z07:00", "Asia/Kolkata"]];
    for (const [format, location] of layouts) {
      it(`${format}${location ? ` in ${location}` : ""}: the same instant or the same error for ${VALUES.length} chosen and 3000 mutated values`, () => {
        const zone = location === undefined ? undefined : loadLocation(location);
        const fast = compileTimeFormat(format, zone);
        const general = compileTimeFormat(format, zone, { rfc3339FastPath: false });
        let taken = 0;
        for (const value of [...VALUES, ...mutations(3000)]) {
          expect(outcome(fast, value), JSON.stringify(value)).to.deep.equal(outcome(general, value));
          if (parseRFC3339(value) !== undefined) taken++;
        }
        // The comparison means something only if the fast path took a good share of the values.
        expect(taken).to.be.greaterThan(400);
      });
    }

    it("the timestamp stage, which tries the fast path itself, sets what the compiled parsers give (format and fallback_formats)", () => {
      const stageOptions: [Record<string, unknown>, ReturnType<typeof compileTimeFormat>[]][] = [
        [{ format: "RFC3339Nano" }, [compileTimeFormat("RFC3339Nano")]],
        [{ format: "2006-01-02T15:04:05Z07:00", location: "America/New_York" }, [compileTimeFormat("2006-01-02T15:04:05Z07:00", loadLocation("America/New_York"))]],
        [{ format: "UnixMs", fallback_formats: ["RFC3339", "2006-01-02T15:04:05"] }, [compileTimeFormat("UnixMs"), compileTimeFormat("RFC3339"), compileTimeFormat("2006-01-02T15:04:05")]],
      ];
      for (const [options, parsers] of stageOptions) {
        const stage = timestamp({ source: "ts", action_on_failure: "skip", ...options }, "LOKI_STAGE_CONFIGS[0].timestamp", noNested);
        for (const value of [...VALUES, ...mutations(1000)]) {
          let expected: Instant = { sec: 1, nsec: 0 };
          for (const parse of parsers) {
            const got = outcome(parse, value);
            if (typeof got !== "string") {
              expected = got;
              break;
            }
          }
          const entry = stageEntry({ extracted: { ts: value }, sec: 1, nsec: 0 });
          stage.process(entry, stageContext(JULY_2026));
          expect({ sec: entry.sec, nsec: entry.nsec }, `${JSON.stringify(options)}: ${JSON.stringify(value)}`).to.deep.equal(expected);
        }
      }
    });

    it("a format tries the fast path first exactly when it is RFC3339, RFC3339Nano or their layout", () => {
      const table: [string, boolean][] = [
        ["RFC3339", true], ["RFC3339Nano", true], ["2006-01-02T15:04:05Z07:00", true], ["2006-01-02T15:04:05.999999999Z07:00", true],
        ["2006-01-02T15:04:05.000Z07:00", false], ["RFC1123Z", false], ["Unix", false], ["UnixMs", false], ["UnixNs", false], ["2006-01-02", false],
      ];
      for (const [format, expected] of table) expect(triesRFC3339First(format), format).to.equal(expected);
    });

    it("the minute remembered from the value before never changes an answer", () => {
      // Each value right after one sharing its first 17 characters (its "2006-01-02T15:04:" when
      // that is valid), and after one of another minute: the fast path then reads it from the
      // remembered minute, or reads it whole.
      const fast = compileTimeFormat("RFC3339Nano");
      const general = compileTimeFormat("RFC3339Nano", undefined, { rfc3339FastPath: false });
      let remembered = 0;
      for (const value of [...VALUES, ...mutations(3000)]) {
        for (const before of [`${value.slice(0, 17)}00Z`, "2001-02-03T04:05:06Z"]) {
          const primed = parseRFC3339(before) !== undefined && value.startsWith(before.slice(0, 17));
          expect(outcome(fast, before), JSON.stringify(before)).to.deep.equal(outcome(general, before));
          expect(outcome(fast, value), `${JSON.stringify(value)} after ${JSON.stringify(before)}`).to.deep.equal(outcome(general, value));
          if (primed && value.length >= 20) remembered++;
        }
      }
      expect(remembered).to.be.greaterThan(1000);
    });
  });

  it("refuses time zones Go does not know, and offsets that are not zone names", () => {
    expect(() => loadLocation("America/Canada")).to.throw("unknown time zone America/Canada");
    expect(() => loadLocation("+01:00")).to.throw("unknown time zone");
    expect(loadLocation("").name).to.equal("UTC");
    expect(loadLocation("Local").name).to.equal("UTC"); // the Lambda runtime's zone
  });

  it("prints numbers like Go's FormatFloat(f, 'f', -1, 64): shortest digits, no exponent", () => {
    const table: [number, string][] = [
      [1, "1"],
      [2.02, "2.02"],
      [1562723913000, "1562723913000"],
      [1e21, "1000000000000000000000"],
      [-2.5e22, "-25000000000000000000000"],
      [1.5e-7, "0.00000015"],
      [1.23456789e-10, "0.000000000123456789"],
    ];
    for (const [n, text] of table) expect(formatGoFloat(n), String(n)).to.equal(text);
  });
});

describe("timestamp stage", () => {
  function run(options: unknown, entries: { labels?: Record<string, string>; extracted: Record<string, unknown> }[], start: Instant = { sec: 1, nsec: 0 }): Instant[] {
    const stage = timestamp(options, "LOKI_STAGE_CONFIGS[0].timestamp", noNested);
    const ctx = stageContext(JULY_2026);
    return entries.map(({ labels, extracted }) => {
      const entry = stageEntry({ labels: labels ?? {}, extracted, sec: start.sec, nsec: start.nsec });
      expect(stage.process(entry, ctx)).to.equal(undefined);
      return { sec: entry.sec, nsec: entry.nsec };
    });
  }

  it("sets the entry's timestamp from the extracted value, to the nanosecond", () => {
    expect(run({ source: "ts", format: "RFC3339Nano" }, [{ extracted: { ts: "2106-01-02T23:04:05.123456789-04:00" } }])).to.deep.equal([instant("2106-01-03T03:04:05.123456789Z")]);
  });

  it("reads numbers and booleans of the extracted map as Promtail's getString does", () => {
    expect(run({ source: "ts", format: "UnixMs" }, [{ extracted: { ts: 1562708916414 } }])).to.deep.equal([instant("2019-07-09T21:48:36.414Z")]);
    expect(run({ source: "ts", format: "Unix" }, [{ extracted: { ts: 1562708916.5 } }])).to.deep.equal([instant("2019-07-09T21:48:36.5Z")]);
    // No text for objects, arrays and null: a failure, so the entry keeps its timestamp.
    for (const ts of [null, { a: 1 }, [1], true]) {
      expect(run({ source: "ts", format: "Unix", action_on_failure: "skip" }, [{ extracted: { ts } }])).to.deep.equal([{ sec: 1, nsec: 0 }]);
    }
  });

  it("tries fallback_formats in order when format fails", () => {
    const options = { source: "ts", format: "UnixMs", fallback_formats: ["2006-01-02 03:04:05.000000000 +0000 UTC", "RFC3339"] };
    expect(run(options, [{ extracted: { ts: "2012-11-01T22:08:41-04:00" } }, { extracted: { ts: "1562708916414" } }, { extracted: { ts: "nope" } }])).to.deep.equal([
      instant("2012-11-02T02:08:41Z"),
      instant("2019-07-09T21:48:36.414Z"),
      instant("2019-07-09T21:48:36.414000001Z"), // fudged from the one before
    ]);
  });

  it("reads layouts without an offset in `location`", () => {
    expect(run({ source: "ts", format: "2006-01-02 15:04:05", location: "America/New_York" }, [{ extracted: { ts: "2019-07-22 20:29:32" } }])).to.deep.equal([instant("2019-07-23T00:29:32Z")]);
  });

  it("fudge: an entry that fails gets the last timestamp of its label set plus 1 ns", () => {
    const options = { source: "time", format: "RFC3339Nano" };
    const one = { filename: "/1.log" };
    const two = { filename: "/2.log" };
    expect(
      run(options, [
        { labels: one, extracted: { time: "2019-10-01T01:02:03.400000000Z" } },
        { labels: two, extracted: { time: "2019-10-01T01:02:03.800000000Z" } },
        { labels: one, extracted: {} },
        { labels: two, extracted: { time: "garbage" } },
        { labels: one, extracted: {} },
      ]),
    ).to.deep.equal([
      instant("2019-10-01T01:02:03.400000000Z"),
      instant("2019-10-01T01:02:03.800000000Z"),
      instant("2019-10-01T01:02:03.400000001Z"),
      instant("2019-10-01T01:02:03.800000001Z"),
      instant("2019-10-01T01:02:03.400000002Z"),
    ]);
  });

  it("fudge: a stream's shared (frozen) label set and an entry's own copy of it are the same label set", () => {
    const options = { source: "time", format: "RFC3339Nano" };
    const shared = Object.freeze({ b: "2", a: "1" });
    const other = Object.freeze({ a: "1" });
    expect(
      run(options, [
        { labels: shared, extracted: { time: "2019-10-01T01:02:03.400000000Z" } },
        { labels: other, extracted: { time: "2019-10-01T01:02:03.800000000Z" } },
        { labels: { a: "1", b: "2" }, extracted: {} },
        { labels: shared, extracted: {} },
        { labels: other, extracted: {} },
      ]),
    ).to.deep.equal([
      instant("2019-10-01T01:02:03.400000000Z"),
      instant("2019-10-01T01:02:03.800000000Z"),
      instant("2019-10-01T01:02:03.400000001Z"),
      instant("2019-10-01T01:02:03.400000002Z"),
      instant("2019-10-01T01:02:03.800000001Z"),
    ]);
  });

  it("fudge: label sets are told apart by names and values, not by a hash", () => {
    const options = { source: "time", format: "RFC3339Nano" };
    const m = { app: "m", uniq0: "1", uniq1: "1" };
    const l = { app: "l", uniq0: "0", uniq1: "1" };
    expect(
      run(options, [
        { labels: m, extracted: { time: "2019-10-01T01:02:03.400000000Z" } },
        { labels: l, extracted: { time: "2019-10-01T01:02:03.800000000Z" } },
        { labels: m, extracted: {} },
        { labels: l, extracted: {} },
      ]),
    ).to.deep.equal([instant("2019-10-01T01:02:03.4Z"), instant("2019-10-01T01:02:03.8Z"), instant("2019-10-01T01:02:03.400000001Z"), instant("2019-10-01T01:02:03.800000001Z")]);
  });

  it("fudge: keeps the entry's timestamp while nothing was parsed for its label set; carries into the next second", () => {
    const options = { source: "time", format: "RFC3339Nano" };
    expect(run(options, [{ labels: { a: "1" }, extracted: { time: "2019-10-01T01:02:03.999999999Z" } }, { labels: { a: "2" }, extracted: {} }, { labels: { a: "1" }, extracted: {} }])).to.deep.equal([
      instant("2019-10-01T01:02:03.999999999Z"),
      { sec: 1, nsec: 0 },
      instant("2019-10-01T01:02:04Z"),
    ]);
  });

  it("fudge: the memory lives in the stage object, across invocations of a warm container", () => {
    const stage = timestamp({ source: "t", format: "Unix" }, "s", noNested);
    const ctx = stageContext();
    stage.process(stageEntry({ labels: { a: "1" }, extracted: { t: "100" } }), ctx);
    // A later invocation, same stage object.
    const later = stageEntry({ labels: { a: "1" }, extracted: {}, sec: 5 });
    stage.process(later, ctx);
    expect([later.sec, later.nsec]).to.deep.equal([100, 1]);
  });

  it(`fudge: remembers at most ${MAX_FUDGE_STREAMS} label sets, forgetting the least recently used`, () => {
    const stage = timestamp({ source: "t", format: "Unix" }, "s", noNested);
    const ctx = stageContext();
    for (let i = 0; i <= MAX_FUDGE_STREAMS; i++) stage.process(stageEntry({ labels: { i: String(i) }, extracted: { t: String(1000 + i) } }), ctx);
    const first = stageEntry({ labels: { i: "0" }, extracted: {}, sec: 7 });
    const last = stageEntry({ labels: { i: String(MAX_FUDGE_STREAMS) }, extracted: {}, sec: 7 });
    stage.process(first, ctx);
    stage.process(last, ctx);
    expect(first.sec).to.equal(7);
    expect([last.sec, last.nsec]).to.deep.equal([1000 + MAX_FUDGE_STREAMS, 1]);
  });

  it("fudge: a label set used again is the most recent one, so the least recently used goes first", () => {
    const stage = timestamp({ source: "t", format: "Unix" }, "s", noNested);
    const ctx = stageContext();
    const parse = (i: number, t: number) => stage.process(stageEntry({ labels: { i: String(i) }, extracted: { t: String(t) } }), ctx);
    for (let i = 0; i < MAX_FUDGE_STREAMS; i++) parse(i, 1000 + i);
    parse(0, 5000); // set 0 is used again (twice in a row: the second time it already is the newest)
    parse(0, 5001);
    parse(MAX_FUDGE_STREAMS, 9000); // one set too many: set 1, the least recently used, is forgotten
    const fudged = (i: number) => {
      const entry = stageEntry({ labels: { i: String(i) }, extracted: {}, sec: 7 });
      stage.process(entry, ctx);
      return [entry.sec, entry.nsec];
    };
    expect(fudged(1)).to.deep.equal([7, 0]);
    expect(fudged(0)).to.deep.equal([5001, 1]);
    expect(fudged(2)).to.deep.equal([1002, 1]);
    expect(fudged(MAX_FUDGE_STREAMS)).to.deep.equal([9000, 1]);
    expect(fudged(0)).to.deep.equal([5001, 2]);
  });

  it("skip: an entry that fails keeps its own timestamp", () => {
    expect(run({ source: "time", format: "RFC3339Nano", action_on_failure: "skip" }, [{ extracted: { time: "2019-10-01T01:02:03.4Z" } }, { extracted: {} }])).to.deep.equal([instant("2019-10-01T01:02:03.4Z"), { sec: 1, nsec: 0 }]);
  });

  it("year-less formats take the year from the context's clock", () => {
    const stage = timestamp({ source: "t", format: "Stamp" }, "s", noNested);
    const entry = stageEntry({ extracted: { t: "Dec 31 23:59:59" } });
    stage.process(entry, stageContext(Date.UTC(2031, 0, 1, 0, 0, 3)));
    expect({ sec: entry.sec, nsec: entry.nsec }).to.deep.equal(instant("2030-12-31T23:59:59Z"));
  });

  const where = "LOKI_STAGE_CONFIGS[3].timestamp";
  const errors: [string, unknown, string][] = [
    ["options not an object", "RFC3339", `${where}: must be an object of options, got string "RFC3339"`],
    ["missing source", { format: "RFC3339" }, `${where}.source: is required`],
    ["empty source", { source: "", format: "RFC3339" }, `${where}.source: is required`],
    ["missing format", { source: "ts" }, `${where}.format: is required. Accepted form: one of ANSIC, UnixDate`],
    ["a strftime / Java pattern instead of a Go layout", { source: "ts", format: "yyyy-MM-dd HH:mm:ss" }, `${where}.format: "yyyy-MM-dd HH:mm:ss" is neither a named format nor a Go layout`],
    ["a strftime pattern as a fallback", { source: "ts", format: "RFC3339", fallback_formats: ["RFC3339Nano", "%Y-%m-%d"] }, `${where}.fallback_formats[1]: "%Y-%m-%d" is neither`],
    ["fallback_formats not a list", { source: "ts", format: "RFC3339", fallback_formats: { a: "Unix" } }, `${where}.fallback_formats: must be a list of strings`],
    ["unknown location", { source: "ts", format: "2006-01-02", location: "America/Canada" }, `${where}.location: unknown time zone America/Canada. Accepted form: an IANA time zone name`],
    ["location not a string", { source: "ts", format: "2006-01-02", location: 1 }, `${where}.location: must be a string, got number 1`],
    ["unknown action_on_failure", { source: "ts", format: "RFC3339", action_on_failure: "foo" }, `${where}.action_on_failure: "foo" is not supported. Accepted form: fudge (the default) or skip`],
    ["unknown option", { source: "ts", format: "RFC3339", fallback_format: ["Unix"] }, `${where}.fallback_format: is not an option of this stage (did you mean "fallback_formats"?). Accepted form: one of source, format, fallback_formats, location, action_on_failure`],
  ];
  for (const [name, options, message] of errors) {
    it(`refuses at cold start: ${name}`, () => {
      expect(() => timestamp(options, where, noNested))
        .to.throw(ConfigError)
        .with.property("message")
        .that.satisfy((m: string) => m.startsWith(message));
    });
  }
});
