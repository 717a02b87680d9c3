/**
 * Field access on space-separated log lines (ELB, S3 access logs) without splitting the whole
 * line: only lines whose metadata the user asked for pay for it.
 */

/**
 * The `n`-th (0-based) field of a line whose fields are separated by single spaces and where a
 * field may be a double-quoted string containing spaces (backslash escapes inside quotes) or a
 * bracketed time (`[06/Feb/2019:00:00:38 +0000]`). Quotes and brackets are kept.
 */
export function nthField(line: string, n: number): string | undefined {
  let start = 0;
  for (let field = 0; start <= line.length; field++) {
    const end = fieldEnd(line, start);
    if (field === n) return line.slice(start, end);
    start = end + 1;
  }
  return undefined;
}

function fieldEnd(line: string, start: number): number {
  const first = line.charCodeAt(start);
  let i = start;
  if (first === 34 /* " */) {
    for (i = start + 1; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 92 /* \ */) i++;
      else if (c === 34) {
        i++;
        break;
      }
    }
  } else if (first === 91 /* [ */) {
    const close = line.indexOf("]", start);
    i = close === -1 ? line.length : close + 1;
  }
  const space = line.indexOf(" ", i);
  return space === -1 ? line.length : space;
}

/** `"Root=1-…"` -> `Root=1-…`; `-` and empty -> undefined. */
export function unquote(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  const value = field.length >= 2 && field.startsWith('"') && field.endsWith('"') ? field.slice(1, -1) : field;
  return value === "" || value === "-" ? undefined : value;
}

/** `192.0.2.1:2817` -> `192.0.2.1`; IPv6 `2001:db8::1:443` -> `2001:db8::1` (the port is always last). */
export function stripPort(address: string | undefined): string | undefined {
  if (address === undefined || address === "-" || address === "") return undefined;
  const colon = address.lastIndexOf(":");
  if (colon <= 0) return address;
  const host = address.slice(0, colon);
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}
