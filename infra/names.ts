import { createHash } from "crypto";

/**
 * A stable, readable piece of a logical resource name for a source (log group, bucket, stream):
 * the source itself when it is already tidy, else a cleaned form plus a short hash so that two
 * sources never collide (`/a/b` and `a-b`).
 */
export function slug(source: string): string {
  const cleaned = source.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "");
  if (cleaned === source) return source;
  return `${cleaned || "x"}-${createHash("sha256").update(source).digest("hex").slice(0, 6)}`;
}
