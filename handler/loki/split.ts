import type { Stream } from "./batch";

/** Number of entries over all streams. */
export function countEntries(streams: readonly Stream[]): number {
  let count = 0;
  for (const stream of streams) count += stream.entries.length;
  return count;
}

/**
 * Splits streams into two halves of (nearly) equal entry count, keeping entry order; the
 * stream that straddles the middle appears in both halves with its entries divided.
 * Used when Loki (or a proxy in front of it) answers 413 to a request that is too large.
 */
export function splitInHalves(streams: readonly Stream[]): [Stream[], Stream[]] {
  let remaining = Math.ceil(countEntries(streams) / 2);
  const first: Stream[] = [];
  const second: Stream[] = [];
  for (const stream of streams) {
    const count = stream.entries.length;
    if (remaining >= count) {
      if (count > 0) first.push(stream);
      remaining -= count;
    } else if (remaining > 0) {
      first.push({ labels: stream.labels, entries: stream.entries.slice(0, remaining) });
      second.push({ labels: stream.labels, entries: stream.entries.slice(remaining) });
      remaining = 0;
    } else if (count > 0) {
      second.push(stream);
    }
  }
  return [first, second];
}
