/**
 * Extracted values as Promtail turns them into strings (its `getString`): strings as they
 * are, numbers in Go's shortest decimal form without an exponent (`strconv.FormatFloat(v, 'f',
 * -1, 64)`), booleans as true/false. null, objects and arrays have no string form there
 * (getString fails the conversion: labels skips the value, template prints `<no value>`, the
 * timestamp stage counts a failure), so they answer undefined.
 */
export function valueToString(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return formatGoFloat(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    default:
      return undefined;
  }
}

/** Go's FormatFloat(v, 'f', -1, 64): the shortest digits that read back exactly, never an exponent. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  const shortest = String(value);
  const e = shortest.indexOf("e");
  if (e < 0) return shortest;
  // JavaScript's shortest digits, laid out without the exponent.
  const negative = value < 0;
  const mantissa = shortest.slice(negative ? 1 : 0, e);
  const exponent = Number(shortest.slice(e + 1));
  const digits = mantissa.replace(".", "");
  const point = (mantissa.indexOf(".") < 0 ? mantissa.length : mantissa.indexOf(".")) + exponent;
  let out: string;
  if (point <= 0) out = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? "-" : "") + out;
}
