import { createHash, randomFillSync } from 'node:crypto';

/** Ids and time come from here so tests can pass their own (see `createApp(deps)`). */
export interface Clock {
  now(): Date;
}
export type IdGenerator = () => string;

export const systemClock: Clock = { now: () => new Date() };

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * Whether two UUIDs name the same object. Path and query ids arrive folded to lower case
 * (http/request-hooks.ts); an id repeated in a body does not, and is compared with this.
 */
export function sameId(left: string, right: string): boolean {
  return left.toLowerCase() === right.toLowerCase();
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
// Random bytes are drawn 4 KiB at a time: one system call per ~400 ids instead of one per id.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
let lastMilliseconds = 0;
let counter = 0;

function randomBytes(count: number): Buffer {
  if (poolOffset + count > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + count);
  poolOffset += count;
  return bytes;
}

/**
 * Time-ordered UUID v7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that
 * starts at a random value each millisecond and keeps ids made in the same millisecond (or after
 * the clock steps back) in creation order, then 62 random bits. Inserts stay at the right edge of
 * every primary-key index, and ids sort like the rows were made.
 */
export const newId: IdGenerator = () => {
  const random = randomBytes(10);
  let milliseconds = Date.now();
  if (milliseconds > lastMilliseconds) {
    lastMilliseconds = milliseconds;
    // Half the counter space is left for ids made later in the same millisecond.
    counter = ((random[0]! << 8) | random[1]!) & 0x7ff;
  } else {
    counter += 1;
    if (counter > 0xfff) {
      lastMilliseconds += 1;
      counter = 0;
    }
    milliseconds = lastMilliseconds;
  }
  const high = Math.floor(milliseconds / 0x10000);
  const low = milliseconds & 0xffff;
  return (
    HEX[(high >>> 24) & 0xff]! +
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    '-' +
    HEX[low >>> 8]! +
    HEX[low & 0xff]! +
    '-' +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    '-' +
    HEX[0x80 | (random[2]! & 0x3f)]! +
    HEX[random[3]!]! +
    '-' +
    HEX[random[4]!]! +
    HEX[random[5]!]! +
    HEX[random[6]!]! +
    HEX[random[7]!]! +
    HEX[random[8]!]! +
    HEX[random[9]!]!
  );
};

/**
 * A name-based UUID (version 5, RFC 9562: SHA-1 of the namespace and the name): the same
 * namespace and name give the same id in every process, so objects declared in configuration
 * keep their ids across restarts.
 */
export function nameBasedId(namespace: string, name: string): string {
  const bytes = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
