/** Sent as User-Agent so Loki operators can tell our pushes apart. Kept in step with package.json by a test. */
export const VERSION = "0.1.0";
export const USER_AGENT = `lambda-promtail-pulumi/${VERSION}`;
