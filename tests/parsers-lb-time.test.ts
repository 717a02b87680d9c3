import { expect } from "chai";
import { findLineTime, LineTime, secondOfDay } from "../handler/parsers/lb";
import { fractionToNanos } from "../handler/parsers/time";
import { seededRandom } from "./support/random";

/** What the load-balancer parser used before: the first match of this regex (its clock checked as the parser checks it). */
const TIME = /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/;

function byRegex(line: string): LineTime | undefined {
  const m = TIME.exec(line);
  if (!m) return undefined;
  return { day: +m[1] * 10000 + +m[2] * 100 + +m[3], secondOfDay: secondOfDay(+m[4], +m[5], +m[6]), nsec: fractionToNanos(m[7]) };
}

describe("load balancer logs: finding the record time on a line", () => {
  it("reads the time where each load balancer writes it", () => {
    const cases: [string, LineTime][] = [
      ["http 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80", { day: 20180702, secondOfDay: 22 * 3600 + 23 * 60, nsec: 186_641_000 }],
      ["tls 2.0 2018-12-20T02:59:40 net/my-nlb/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341", { day: 20181220, secondOfDay: 2 * 3600 + 59 * 60 + 40, nsec: 0 }],
      ["2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80", { day: 20150513, secondOfDay: 23 * 3600 + 39 * 60 + 43, nsec: 945_958_000 }],
    ];
    for (const [line, expected] of cases) expect(findLineTime(line), line).to.deep.equal(expected);
  });

  it("agrees with the regex it replaces on awkward lines", () => {
    const lines = [
      "", "no time here", "2024-06-01T12:00:0", "2024-06-01T12:00:00", "x2024-06-01T12:00:00.",
      "2024-06-01T12:00:00.1", "2024-06-01T12:00:00.123456789", "2024-06-01T12:00:00.1234567891234",
      "12024-06-01T12:00:00Z", "2024-06-01 12:00:00 then 2024-06-02T01:02:03.5Z", "2024-06-01T1:00:00 2024-06-01T10:00:00",
      "2024-6-01T12:00:00", "9999-99-99T99:99:99.999999999", "0000-00-00T00:00:00.000000000",
      "٢٠٢٤-06-01T12:00:00", "2024-06-01t12:00:00", "2024-06-01T12:00:00.x", "2024-06-01T12:00:00..5",
      "ééé 2024-06-01T12:00:00.000001Z", "2024-06-01T12:00:00".repeat(3),
    ];
    for (const line of lines) expect(findLineTime(line), JSON.stringify(line)).to.deep.equal(byRegex(line));
  });

  it("agrees with the regex on thousands of generated lines", () => {
    const random = seededRandom(2024);
    const pick = (chars: string) => chars[Math.floor(random() * chars.length)];
    // Mostly digits and the time's separators, so that near-misses and partial times are common.
    const alphabet = "0123456789-T:.Z 0123456789-:";
    let found = 0;
    for (let n = 0; n < 20_000; n++) {
      let line = "";
      const length = Math.floor(random() * 40);
      for (let i = 0; i < length; i++) line += pick(alphabet);
      if (random() < 0.5) {
        const at = Math.floor(random() * (line.length + 1));
        const fraction = random() < 0.5 ? "" : "." + "123456789012".slice(0, Math.floor(random() * 13));
        line = line.slice(0, at) + "2024-06-01T12:34:56" + fraction + line.slice(at);
      }
      const expected = byRegex(line);
      expect(findLineTime(line), JSON.stringify(line)).to.deep.equal(expected);
      if (expected) found++;
    }
    // Both outcomes must be common, or the comparison proves little.
    expect(found).to.be.within(5_000, 15_000);
  });
});
