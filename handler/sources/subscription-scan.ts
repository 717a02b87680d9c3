import { entryAtMillis } from "../types";

/**
 * Where the parts of a CloudWatch Logs subscription payload lie in its inflated bytes, found
 * without building its JSON: the top-level fields the shipper reads (messageType, owner,
 * logGroup, logStream) parsed, and the byte range of every element of `logEvents`, so that each
 * event can be parsed (JSON.parse of its slice) only when its entry is shipped.
 *
 * Parsing a whole payload at once held, for each 11 MB record of a Kinesis batch, its inflated
 * bytes, their decoded text and the parsed JSON of all its events together (139 MB of RSS under a
 * 128 MB function's heap limits); with this layout only the bytes and one batch of entries are
 * alive.
 *
 * The scan validates the whole document as strictly as JSON.parse does (RFC 8259: escapes,
 * control characters, numbers, literals, nesting, trailing bytes), before any entry is made: a
 * payload either is valid JSON, and every event's slice parses, or it is rejected as a whole, as
 * when it was parsed at once (a Kinesis record that is not valid JSON is then shipped as raw
 * lines). Bytes are scanned rather than text: every structural character is ASCII, which never
 * occurs inside a UTF-8 sequence, so the positions are the same in the bytes and in the text
 * decoded from them.
 *
 * Keys may come in any order and more than once (the last one counts, as for JSON.parse); a key
 * written with escapes (`"log\u0047roup"`) is the key it spells.
 */

/** The top-level fields of a payload the shipper reads, as JSON.parse would give them. */
export interface SubscriptionLayout {
  messageType?: unknown;
  owner?: unknown;
  logGroup?: unknown;
  logStream?: unknown;
  /** `logEvents`: undefined when absent, null when it is not an array. */
  logEvents?: LogEventsLayout | null;
}

/**
 * Where each event's parts lie, by event index. Offsets are into the payload's bytes; a string's
 * range is inside its quotes. Only events that are `{timestamp: number, message: string}` with
 * a timestamp Loki can store are described fully: the first event that is not is named instead,
 * and the payload must be refused (see cloudWatchPayloadGroup).
 */
export interface LogEventsLayout {
  count: number;
  /** The payload's size in bytes. */
  payloadLength: number;
  messageStart: Uint32Array;
  messageEnd: Uint32Array;
  /** The timestamps, milliseconds since the epoch. */
  timestamps: Float64Array;
  /** MESSAGE_ESCAPED, ID_STRING, ID_ESCAPED. */
  flags: Uint8Array;
  /** The ids' ranges, when asked for (`wantIds`) and the id is a string (ID_STRING). */
  idStart?: Uint32Array;
  idEnd?: Uint32Array;
  /** The first event that is not `{timestamp: number, message: string}`, and its byte range. */
  firstMalformed?: EventSpan;
  /** The first event whose timestamp Loki cannot store, and its byte range. */
  firstUnstorable?: EventSpan;
}

export interface EventSpan { index: number; start: number; end: number }

export const MESSAGE_ESCAPED = 1;
export const ID_STRING = 2;
export const ID_ESCAPED = 4;

/** The document is not valid JSON; `offset` is where the scan stopped (the message is JSON.parse's, see the caller). */
export class JsonScanError extends Error {
  constructor(readonly offset: number, reason: string) {
    super(`${reason} at byte ${offset}`);
    this.name = "JsonScanError";
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;

/** Bytes that end the run of plain characters inside a string: the quote, the backslash, control characters. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

/** JSON's whitespace: space, tab, line feed, carriage return (nothing else, not even a byte-order mark). */
const WHITESPACE = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WHITESPACE[c] = 1;

/** The characters that may follow a backslash, besides `u`. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

const HEX = new Uint8Array(256);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The keys read: the payload's (logEvents aside, read differently) and an event's. */
const HEADER_KEYS = ["messageType", "owner", "logGroup", "logStream"] as const;
const PAYLOAD_KEYS = [...HEADER_KEYS, "logEvents"] as const;
const EVENT_KEYS = ["timestamp", "message", "id"] as const;

/** Keys as bytes, to compare without decoding them. */
function keyBytes<K extends string>(keys: readonly K[]): { key: K; bytes: Buffer }[] {
  return keys.map((key) => ({ key, bytes: Buffer.from(key, "latin1") }));
}
const PAYLOAD_KEY_BYTES = keyBytes(PAYLOAD_KEYS);
const EVENT_KEY_BYTES = keyBytes(EVENT_KEYS);

/** The kinds of value scanValue tells apart for an event's fields. */
const STRING = 1;
const NUMBER = 2;
const OTHER = 3;

/** Containers open around the value being scanned (scanValue's explicit stack: no recursion, any depth). */
const IN_ARRAY = 0;
const IN_OBJECT = 1;

class Scanner {
  private depth = 0;
  private stack = new Uint8Array(64);
  /** Set by scanString: whether the string held an escape. */
  escaped = false;

  /**
   * The bytes as 32-bit words from the first 4-byte-aligned one (`wordsFrom`), so that runs of
   * plain characters in strings are skipped four bytes at a time.
   */
  private readonly words: Int32Array;
  private readonly wordsFrom: number;

  constructor(readonly b: Uint8Array, readonly decode: (start: number, end: number) => string) {
    this.wordsFrom = (4 - (b.byteOffset & 3)) & 3;
    this.words = new Int32Array(b.buffer, b.byteOffset + this.wordsFrom, Math.max(0, (b.length - this.wordsFrom) >> 2));
  }

  fail(i: number, reason?: string): never {
    throw new JsonScanError(i, reason ?? (i >= this.b.length ? "unexpected end of data" : `unexpected byte 0x${this.b[i].toString(16)}`));
  }

  ws(i: number): number {
    const b = this.b;
    while (i < b.length && WHITESPACE[b[i]] === 1) i++;
    return i;
  }

  expect(i: number, c: number): number {
    if (this.b[i] !== c) this.fail(i);
    return i + 1;
  }

  /** `i` at an opening quote -> the offset after the closing one. */
  scanString(i: number): number {
    const b = this.b;
    const n = b.length;
    if (b[i] !== QUOTE) this.fail(i);
    i++;
    this.escaped = false;
    const words = this.words;
    const wordsFrom = this.wordsFrom;
    for (;;) {
      while (i < n && ((i - wordsFrom) & 3) !== 0 && STRING_STOP[b[i]] === 0) i++;
      if (i < n && STRING_STOP[b[i]] === 0) {
        // Aligned: skip the words holding no quote, no backslash and no control character
        // (the classic "has a zero byte" and "has a byte below n" bit tricks, per byte lane).
        let k = (i - wordsFrom) >> 2;
        for (; k < words.length; k++) {
          const w = words[k];
          const quote = w ^ 0x22222222;
          const backslash = w ^ 0x5c5c5c5c;
          if ((((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash) | ((w - 0x20202020) & ~w)) & 0x80808080) break;
        }
        i = wordsFrom + (k << 2);
        while (i < n && STRING_STOP[b[i]] === 0) i++;
      }
      if (i >= n) this.fail(i, "unterminated string");
      const c = b[i];
      if (c === QUOTE) return i + 1;
      if (c !== BACKSLASH) this.fail(i, "control character in a string");
      this.escaped = true;
      const e = b[i + 1];
      if (e === 0x75 /* u */) {
        if (HEX[b[i + 2]] !== 1 || HEX[b[i + 3]] !== 1 || HEX[b[i + 4]] !== 1 || HEX[b[i + 5]] !== 1) this.fail(i, "bad \\u escape");
        i += 6;
      } else if (SIMPLE_ESCAPE[e] === 1) {
        i += 2;
      } else {
        this.fail(i, "bad escape");
      }
    }
  }

  /** RFC 8259's number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
  scanNumber(i: number): number {
    const b = this.b;
    if (b[i] === MINUS) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else this.fail(i, "bad number");
    if (b[i] === 0x2e /* . */) {
      i++;
      if (!isDigit(b[i])) this.fail(i, "bad number");
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45 /* e E */) {
      i++;
      if (b[i] === 0x2b || b[i] === MINUS) i++;
      if (!isDigit(b[i])) this.fail(i, "bad number");
      while (isDigit(b[i])) i++;
    }
    return i;
  }

  scanLiteral(i: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (this.b[i + k] !== word.charCodeAt(k)) this.fail(i + k);
    return i + word.length;
  }

  private push(kind: number): void {
    if (this.depth === this.stack.length) {
      const grown = new Uint8Array(this.stack.length * 2);
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[this.depth++] = kind;
  }

  /** After `"key"` and its whitespace: the colon and the whitespace after it. */
  colon(i: number): number {
    return this.ws(this.expect(this.ws(i), COLON));
  }

  /** Any JSON value starting at `i` (no leading whitespace) -> the offset after it. */
  scanValue(i: number): number {
    const b = this.b;
    const base = this.depth;
    for (;;) {
      // A value starts at i.
      const c = b[i];
      if (c === QUOTE) i = this.scanString(i);
      else if (c === OPEN_BRACE) {
        i = this.ws(i + 1);
        if (b[i] === CLOSE_BRACE) i++;
        else {
          this.push(IN_OBJECT);
          i = this.colon(this.scanString(i));
          continue;
        }
      } else if (c === OPEN_BRACKET) {
        i = this.ws(i + 1);
        if (b[i] === CLOSE_BRACKET) i++;
        else {
          this.push(IN_ARRAY);
          continue;
        }
      } else if (c === MINUS || isDigit(c)) i = this.scanNumber(i);
      else if (c === 0x74 /* t */) i = this.scanLiteral(i, "true");
      else if (c === 0x66 /* f */) i = this.scanLiteral(i, "false");
      else if (c === 0x6e /* n */) i = this.scanLiteral(i, "null");
      else this.fail(i);
      // A value ended before i: close the containers it ends, or move to the next member.
      for (;;) {
        if (this.depth === base) return i;
        i = this.ws(i);
        const inObject = this.stack[this.depth - 1] === IN_OBJECT;
        if (b[i] === COMMA) {
          i = this.ws(i + 1);
          if (inObject) i = this.colon(this.scanString(i));
          break;
        }
        if (b[i] !== (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) this.fail(i);
        i++;
        this.depth--;
      }
    }
  }

  /** The key of the string `start..end` (quotes included) if it is one of `keys`. */
  key<K extends string>(start: number, end: number, keys: { key: K; bytes: Buffer }[]): K | undefined {
    if (this.escaped) {
      const key = JSON.parse(this.decode(start, end)) as string;
      return keys.find((k) => k.key === key)?.key;
    }
    const length = end - start - 2;
    for (const { key, bytes } of keys) {
      if (bytes.length !== length) continue;
      let k = 0;
      while (k < length && this.b[start + 1 + k] === bytes[k]) k++;
      if (k === length) return key;
    }
    return undefined;
  }

  /** `i` at `[` -> the offset after the array; its events described in `events`. */
  scanEvents(i: number, events: EventsBuilder): number {
    const b = this.b;
    i = this.ws(i + 1);
    if (b[i] === CLOSE_BRACKET) return i + 1;
    for (;;) {
      i = this.scanEvent(i, events);
      i = this.ws(i);
      if (b[i] === CLOSE_BRACKET) return i + 1;
      i = this.ws(this.expect(i, COMMA));
    }
  }

  /** One element of logEvents, at `i`: what lies where, or that it is malformed or its time unstorable. */
  private scanEvent(start: number, events: EventsBuilder): number {
    const b = this.b;
    if (b[start] !== OPEN_BRACE) {
      const end = this.scanValue(start);
      events.malformed(start, end);
      return end;
    }
    let i = this.ws(start + 1);
    let timestampKind = 0;
    let timestampStart = 0;
    let timestampEnd = 0;
    let messageStart = -1;
    let messageEnd = 0;
    let messageEscaped = false;
    let idStart = -1;
    let idEnd = 0;
    let idEscaped = false;
    if (b[i] === CLOSE_BRACE) i++;
    else {
      for (;;) {
        const keyStart = i;
        i = this.scanString(i);
        const key = this.key(keyStart, i, EVENT_KEY_BYTES);
        i = this.colon(i);
        const valueStart = i;
        const c = b[i];
        const kind = c === QUOTE ? STRING : c === MINUS || isDigit(c) ? NUMBER : OTHER;
        i = kind === STRING ? this.scanString(i) : kind === NUMBER ? this.scanNumber(i) : this.scanValue(i);
        // The last of a repeated key counts, as for JSON.parse.
        if (key === "timestamp") {
          timestampKind = kind;
          timestampStart = valueStart;
          timestampEnd = i;
        } else if (key === "message") {
          messageStart = kind === STRING ? valueStart + 1 : -1;
          messageEnd = i - 1;
          messageEscaped = this.escaped;
        } else if (key === "id") {
          idStart = kind === STRING ? valueStart + 1 : -1;
          idEnd = i - 1;
          idEscaped = this.escaped;
        }
        i = this.ws(i);
        if (b[i] === CLOSE_BRACE) {
          i++;
          break;
        }
        i = this.ws(this.expect(i, COMMA));
      }
    }
    if (timestampKind !== NUMBER || messageStart < 0) events.malformed(start, i);
    else events.add(start, i, this.number(timestampStart, timestampEnd), messageStart, messageEnd, messageEscaped, idStart, idEnd, idEscaped);
    return i;
  }

  /** The value of the number `start..end`: integers of up to 15 digits (every epoch-millisecond time) without a decoder. */
  private number(start: number, end: number): number {
    const b = this.b;
    const negative = b[start] === MINUS;
    let i = negative ? start + 1 : start;
    if (end - i > 15) return Number(this.decode(start, end));
    let value = 0;
    for (; i < end; i++) {
      const c = b[i];
      if (!isDigit(c)) return Number(this.decode(start, end));
      value = value * 10 + (c - 0x30);
    }
    return negative ? -value : value;
  }
}

/** The events' layout, as it is scanned: arrays grown by doubling. */
class EventsBuilder {
  private index = 0;
  readonly layout: LogEventsLayout;

  constructor(capacity: number, private readonly wantIds: boolean, payloadLength: number) {
    capacity = Math.max(16, capacity);
    this.layout = {
      count: 0, payloadLength,
      messageStart: new Uint32Array(capacity), messageEnd: new Uint32Array(capacity), timestamps: new Float64Array(capacity), flags: new Uint8Array(capacity),
      idStart: wantIds ? new Uint32Array(capacity) : undefined, idEnd: wantIds ? new Uint32Array(capacity) : undefined,
    };
  }

  /** Describes another logEvents array instead (a repeated key: the last counts), in the same arrays. */
  restart(): void {
    const layout = this.layout;
    this.index = 0;
    layout.count = 0;
    layout.firstMalformed = layout.firstUnstorable = undefined;
  }

  malformed(start: number, end: number): void {
    this.layout.firstMalformed ??= { index: this.index, start, end };
    this.index++;
  }

  add(start: number, end: number, timestamp: number, messageStart: number, messageEnd: number, messageEscaped: boolean, idStart: number, idEnd: number, idEscaped: boolean): void {
    const layout = this.layout;
    const index = this.index++;
    if (entryAtMillis(timestamp, "") === undefined) layout.firstUnstorable ??= { index, start, end };
    // Once the payload is refused, the rest of its events need no room.
    if (layout.firstMalformed !== undefined || layout.firstUnstorable !== undefined) return;
    if (index === layout.messageStart.length) this.grow();
    layout.messageStart[index] = messageStart;
    layout.messageEnd[index] = messageEnd;
    layout.timestamps[index] = timestamp;
    let flags = messageEscaped ? MESSAGE_ESCAPED : 0;
    if (this.wantIds && idStart >= 0) {
      flags |= ID_STRING | (idEscaped ? ID_ESCAPED : 0);
      layout.idStart![index] = idStart;
      layout.idEnd![index] = idEnd;
    }
    layout.flags[index] = flags;
    layout.count = index + 1;
  }

  private grow(): void {
    const more = <T extends Uint32Array | Float64Array | Uint8Array>(a: T): T => {
      const grown = new (a.constructor as new (n: number) => T)(a.length * 2);
      grown.set(a);
      return grown;
    };
    const layout = this.layout;
    layout.messageStart = more(layout.messageStart);
    layout.messageEnd = more(layout.messageEnd);
    layout.timestamps = more(layout.timestamps);
    layout.flags = more(layout.flags);
    if (layout.idStart) layout.idStart = more(layout.idStart);
    if (layout.idEnd) layout.idEnd = more(layout.idEnd);
  }
}

/**
 * Scans a whole payload: its layout, or undefined when it is valid JSON but not an object.
 * Throws JsonScanError when it is not valid JSON. `decode` turns a byte range into text (the
 * payload's encoding), for the values and escaped keys that are parsed; `wantIds` asks for the
 * events' ids.
 */
export function scanSubscriptionPayload(bytes: Uint8Array, decode: (start: number, end: number) => string, wantIds = false): SubscriptionLayout | undefined {
  const s = new Scanner(bytes, decode);
  const b = bytes;
  let i = s.ws(0);
  if (b[i] !== OPEN_BRACE) {
    i = s.ws(s.scanValue(i));
    if (i !== b.length) s.fail(i);
    return undefined;
  }
  const layout: SubscriptionLayout = {};
  /** One set of arrays for every logEvents key: sized from the payload, allocating them per repeated key cost O(keys x payload). */
  let events: EventsBuilder | undefined;
  i = s.ws(i + 1);
  if (b[i] === CLOSE_BRACE) i++;
  else {
    for (;;) {
      const keyStart = i;
      i = s.scanString(i);
      const key = s.key(keyStart, i, PAYLOAD_KEY_BYTES);
      i = s.ws(s.expect(s.ws(i), COLON));
      if (key === "logEvents" && b[i] === OPEN_BRACKET) {
        // About one event per 200 bytes of payload in CloudWatch's own; the arrays grow as needed.
        if (events === undefined) events = new EventsBuilder(Math.ceil(b.length / 200), wantIds, b.length);
        else events.restart();
        i = s.scanEvents(i, events);
        layout.logEvents = events.layout;
      } else {
        const valueStart = i;
        i = s.scanValue(i);
        if (key === "logEvents") layout.logEvents = null;
        else if (key !== undefined) layout[key] = JSON.parse(decode(valueStart, i));
      }
      i = s.ws(i);
      if (b[i] === CLOSE_BRACE) {
        i++;
        break;
      }
      i = s.ws(s.expect(i, COMMA));
    }
  }
  i = s.ws(i);
  if (i !== b.length) s.fail(i);
  return layout;
}
