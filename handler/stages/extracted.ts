/**
 * Promtail's `getString`: how a value of the extracted map becomes text for the stages that read
 * it (timestamp, template). Numbers print like Go's `strconv.FormatFloat(f, 'f', -1, 64)` (no
 * exponent: 1e21 is "1000000000000000000000"), booleans as true/false; null, arrays and
 * objects have no text (undefined), as in Promtail, where they fail the conversion.
 */
import { formatGoFloat } from "./gotime";

export function extractedString(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return formatGoFloat(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    default:
      return undefined;
  }
}
