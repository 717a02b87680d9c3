/** Go durations (`time.ParseDuration`) and byte sizes (Promtail's `longer_than: 8KB`) in options. */

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const DURATION_FORM = 'a Go duration, e.g. "500ms", "30s", "1h30m" (units ns, us, ms, s, m, h)';

/** Milliseconds of a Go duration string, or undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "0") return 0;
  const sign = s.startsWith("-") ? -1 : 1;
  const body = s.replace(/^[-+]/, "");
  if (body === "") return undefined;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < body.length) {
    part.lastIndex = at;
    const m = part.exec(body);
    if (m === null) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    at = part.lastIndex;
  }
  return sign * total;
}

/**
 * Byte-size units as Loki's configuration reads them (its `flagext.ByteSize`, which Promtail's
 * `drop.longer_than` uses: c2h5oh/datasize on the upper-cased text): every unit is a power of
 * 1024, whether written KB or KiB, and the number is whole.
 */
const BYTE_UNITS: ReadonlyMap<string, number> = (() => {
  const units = new Map<string, number>([["", 1], ["b", 1], ["byte", 1]]);
  const names = [["k", "kilo"], ["m", "mega"], ["g", "giga"], ["t", "tera"], ["p", "peta"], ["e", "exa"]];
  names.forEach(([letter, word], power) => {
    const factor = 1024 ** (power + 1);
    for (const unit of [letter, `${letter}b`, `${letter}ib`, word, `${word}byte`, `${word}bytes`]) units.set(unit, factor);
  });
  return units;
})();

export const BYTES_FORM = 'a whole number of bytes, or with a unit B, KB, MB or GB (1024-based as in Loki\'s configuration: 8KB = 8KiB = 8192), e.g. 8192 or "8KB"';

/** Bytes of a size such as `8KB`, `8 kib` or `1MB` (1024-based; see BYTE_UNITS), or undefined. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (m === null) return undefined;
  const unit = BYTE_UNITS.get(m[2].toLowerCase());
  const bytes = unit === undefined ? NaN : Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
