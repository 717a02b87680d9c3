/**
 * Wording shared by configuration errors: how a JSON value is described, and which known name
 * a misspelt one probably meant.
 */

export function describeJson(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The known name closest to a misspelt one: same letters ignoring case and separators, or at most two edits away. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  const normalize = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  const wanted = normalize(key);
  return known.find((name) => normalize(name) === wanted) ?? known.find((name) => editDistance(normalize(name), wanted) <= 2);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
