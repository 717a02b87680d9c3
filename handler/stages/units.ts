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

const BYTE_UNITS: Readonly<Record<string, number>> = {
  "": 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3,
};

export const BYTES_FORM = 'a size in bytes, e.g. 8192, "8KB" (1000 bytes a KB) or "8KiB" (1024)';

/** Bytes of a size such as `8KB` or `1MiB` (humanize's units, which Promtail uses), or undefined. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (m === null) return undefined;
  const unit = m[2].toLowerCase();
  return Object.hasOwn(BYTE_UNITS, unit) ? Math.floor(Number(m[1]) * BYTE_UNITS[unit]) : undefined;
}
