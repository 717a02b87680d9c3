/** Varint and field sizes shared by the encoder and the batcher's size accounting. */

/** Number of bytes an unsigned 32-bit integer takes as a protobuf varint. */
export function varint32Size(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Varint size of an int64 given as a JavaScript integer (negative values take 10 bytes). */
export function int64Size(value: number): number {
  if (value < 0) return 10;
  if (value <= 0xffffffff) return varint32Size(value);
  let size = 5;
  for (let rest = Math.floor(value / 2 ** 35); rest > 0; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** Size of a google.protobuf.Timestamp message body; proto3 leaves zero fields out. */
export function timestampBodySize(sec: number, nsec: number): number {
  return (sec !== 0 ? 1 + int64Size(sec) : 0) + (nsec !== 0 ? 1 + varint32Size(nsec) : 0);
}
