/**
 * The reference encoding of a Loki PushRequest: protobufjs's reflection encoder built from our
 * push.proto, fed plain objects. The tests check our hand-tuned encoder is byte-identical to it;
 * the encode benchmark measures it as the generic alternative. Likewise its reflection decoder,
 * converted to streams, against our decoder (handler/loki/decode.ts).
 */
import * as path from "node:path";
import * as protobuf from "protobufjs";
import type { Stream } from "../../handler/loki/batch";
import type { LogEntry, Metadata } from "../../handler/types";

const PushRequest = protobuf.loadSync(path.join(__dirname, "../../handler/loki/push.proto")).lookupType("logproto.PushRequest");

/** proto3 writers leave default values out; protobufjs does so only for absent properties, hence the spreads. */
export function encodeWithProtobufjsReflection(streams: readonly Stream[]): Uint8Array {
  const message = {
    streams: streams.map((stream) => ({
      labels: stream.labels,
      entries: stream.entries.map((entry) => ({
        timestamp: { ...(entry.sec !== 0 ? { seconds: entry.sec } : {}), ...(entry.nsec !== 0 ? { nanos: entry.nsec } : {}) },
        ...(entry.line !== "" ? { line: entry.line } : {}),
        structuredMetadata: Object.keys(entry.metadata ?? {})
          .sort()
          .map((name) => {
            const value = entry.metadata![name];
            return { ...(name !== "" ? { name } : {}), ...(value !== "" ? { value } : {}) };
          }),
      })),
    })),
  };
  return PushRequest.encode(message).finish();
}

interface DecodedTimestamp {
  seconds?: number | { toNumber(): number };
  nanos?: number;
}
interface DecodedEntry {
  timestamp?: DecodedTimestamp;
  line?: string;
  structuredMetadata?: Array<{ name?: string; value?: string }>;
}
interface DecodedRequest {
  streams: Array<{ labels?: string; entries: DecodedEntry[] }>;
}

/** protobufjs's reflection decoder, converted to streams as decodePushRequest gives them (int64 seconds come as Long objects). */
export function decodeWithProtobufjsReflection(bytes: Uint8Array): Stream[] {
  const message = PushRequest.decode(bytes) as unknown as DecodedRequest;
  return message.streams.map((stream) => ({
    labels: stream.labels ?? "",
    entries: stream.entries.map((decoded): LogEntry => {
      const seconds = decoded.timestamp?.seconds ?? 0;
      const entry: LogEntry = { sec: typeof seconds === "number" ? seconds : seconds.toNumber(), nsec: decoded.timestamp?.nanos ?? 0, line: decoded.line ?? "" };
      const pairs = decoded.structuredMetadata ?? [];
      if (pairs.length > 0) {
        const metadata: Metadata = {};
        for (const pair of pairs) metadata[pair.name ?? ""] = pair.value ?? "";
        entry.metadata = metadata;
      }
      return entry;
    }),
  }));
}
