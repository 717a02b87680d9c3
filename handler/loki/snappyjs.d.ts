// snappyjs ships no type definitions; these cover the two functions of its public API.
// Both work on the Snappy *block* format (what Loki expects), not the framed format.
declare module "snappyjs" {
  /** Returns a value of the same kind as the input (a Buffer for a Buffer, a Uint8Array for a Uint8Array). */
  export function compress<T extends Uint8Array | ArrayBuffer>(uncompressed: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
}
