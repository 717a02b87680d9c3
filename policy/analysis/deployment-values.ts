/**
 * Label values that look unique per deployment or build: a label carrying one starts a new set
 * of streams every time the stack is deployed (or the value regenerated), leaving the old ones
 * to age out. The patterns are deliberately narrow (exact shapes, whole values) so that
 * ordinary values like `prod`, `eu-west-1` or `v2` never match.
 */
const PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ["a UUID", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i],
  ["an ISO 8601 timestamp", /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i],
  ["a compact timestamp", /^\d{8}T?\d{4,6}Z?$/],
  ["a date", /^\d{4}-\d{2}-\d{2}$/],
  // Seconds or milliseconds since the epoch, 2001 to 2286.
  ["a Unix timestamp", /^1\d{9}(?:\d{3})?$/],
];

/** A git commit: 7 to 40 hex digits with at least one letter and one digit (so `cafe` or `2024` are not). */
const GIT_SHA = /^[0-9a-f]{7,40}$/i;

/** What the value looks like when it looks unique per deployment, else undefined. */
export function perDeploymentShape(value: string): string | undefined {
  const v = value.trim();
  for (const [shape, pattern] of PATTERNS) if (pattern.test(v)) return shape;
  if (GIT_SHA.test(v) && /[a-f]/i.test(v) && /\d/.test(v)) return "a git commit SHA";
  return undefined;
}
