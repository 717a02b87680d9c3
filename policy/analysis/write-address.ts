/**
 * Where a WRITE_ADDRESS points: plain HTTP is acceptable only to hosts that are not reachable
 * over the internet (loopback, private and link-local ranges, names that only resolve inside a
 * network). Anything else would send logs and credentials in clear text across the internet.
 */
import { isIP } from "node:net";

export type AddressExposure =
  | { kind: "https" }
  | { kind: "private-http"; host: string }
  | { kind: "public-http"; host: string }
  | { kind: "invalid" };

/** Host name suffixes that only resolve inside a network (the default `privateHostSuffixes`). */
export const DEFAULT_PRIVATE_HOST_SUFFIXES: readonly string[] = [
  "localhost",
  "internal",
  "local",
  "lan",
  "home.arpa",
  "svc",
  "cluster.local",
];

export function classifyWriteAddress(address: string, privateHostSuffixes: readonly string[]): AddressExposure {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return { kind: "invalid" };
  }
  if (url.protocol === "https:") return { kind: "https" };
  if (url.protocol !== "http:") return { kind: "invalid" };
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return isPrivateHost(host, privateHostSuffixes) ? { kind: "private-http", host } : { kind: "public-http", host };
}

export function isPrivateHost(host: string, privateHostSuffixes: readonly string[]): boolean {
  const version = isIP(host);
  if (version === 4) return isPrivateIPv4(host);
  if (version === 6) return isPrivateIPv6(host);
  // A single-label name (`loki`) resolves only through a network's search domains.
  if (!host.includes(".")) return true;
  return privateHostSuffixes.some((suffix) => {
    const s = suffix.replace(/^\./, "").toLowerCase();
    return host === s || host.endsWith(`.${s}`);
  });
}

function isPrivateIPv4(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number);
  return (
    a === 10 ||
    a === 127 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    // Shared address space (RFC 6598): carrier and VPC-internal NAT, never routed on the internet.
    (a === 100 && b >= 64 && b <= 127)
  );
}

function isPrivateIPv6(ip: string): boolean {
  const lower = ip.toLowerCase();
  if (lower === "::1") return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isPrivateIPv4(mapped[1]);
  const first = parseInt(lower.split(":")[0] || "0", 16);
  // fc00::/7 unique local, fe80::/10 link-local.
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}
