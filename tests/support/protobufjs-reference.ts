/**
 * The reference encoding of a Loki PushRequest: protobufjs's reflection encoder built from our
 * push.proto, fed plain objects. The tests check our hand-tuned encoder is byte-identical to it;
 * the encode benchmark measures it as the generic alternative.
 */
import * as path from "node:path";
import * as protobuf from "protobufjs";
import type { Stream } from "../../handler/loki/batch";

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
