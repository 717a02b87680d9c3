import { createHash } from "crypto";

/**
 * A stable, readable piece of a logical resource name for a source (log group, bucket, stream):
 * the source itself when it is already tidy, else a cleaned form plus a short hash so that two
 * sources never collide (`/a/b` and `a-b`).
 */
export function slug(source: string): string {
  const cleaned = source.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/^-+|-+$/g, "");
  if (cleaned === source) return source;
  return `${cleaned || "x"}-${shortHash(source)}`;
}

const shortHash = (text: string, length = 6): string => createHash("sha256").update(text).digest("hex").slice(0, length);

/**
 * `text` cut to `max` characters, ending in "-" and a hash of `whole` (`hashLength` hex digits),
 * so that two long names cut to the same beginning stay distinct.
 */
export function cutWithHash(text: string, max: number, whole = text, hashLength = 6): string {
  return `${text.slice(0, max - hashLength - 1)}-${shortHash(whole, hashLength)}`;
}

/**
 * Limits of the fields Pulumi's AWS provider names after a logical name when the program leaves
 * them unset: a Lambda permission's statement id (100 characters), and `name` (255 by default).
 */
export const AUTONAME_LIMIT = { statementId: 100, name: 255 } as const;

/** What the provider appends to the logical name: "-" and 7 random characters. */
const AUTONAME_SUFFIX_LENGTH = 8;

/**
 * A logical name whose autonamed field fits `limit`. The provider refuses (at preview) a logical
 * name too long for it, and logical names carry source names: a log group name may have 512
 * characters, and `/aws/lambda/` with a 64-character function name already overflowed a
 * permission's statement id. A name that fits is returned as it is (an upgrade renames nothing);
 * a longer one is cut and ends with a hash of the whole name, so two long names stay distinct.
 */
export function fitLogicalName(name: string, limit: number): string {
  const max = limit - AUTONAME_SUFFIX_LENGTH;
  return name.length <= max ? name : cutWithHash(name, max);
}
