import { randomFillSync } from 'node:crypto';

/**
 * ULID (https://github.com/ulid/spec): 26 Crockford base-32 characters, 48 bits of millisecond time then
 * 80 random bits. Lexicographic order = time order, so subscribers can sort and page by id.
 * Monotonic: within one millisecond (or if the clock steps back) the random part is incremented instead of
 * redrawn, so ids made by one process are strictly increasing. Small enough to own instead of a dependency.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_LEN = 10;
const RANDOM_LEN = 16;

/** Matches a canonical ULID (upper case, first character ≤ 7 so the time fits 48 bits). */
export const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export type UlidFactory = (now?: number) => string;

/** A monotonic ULID generator; each call of the returned function gives an id greater than the last. */
export function monotonicUlid(): UlidFactory {
  let lastTime = -1;
  // 16 base-32 digits (80 bits), most significant first.
  const random = new Uint8Array(RANDOM_LEN);
  let timePart = '';
  return (now: number = Date.now()) => {
    if (now > lastTime) {
      lastTime = now;
      timePart = encodeTime(now);
      randomDigits(random);
    } else if (!increment(random)) {
      // 2^80 ids in one millisecond cannot happen in practice; advancing the clock keeps ids increasing.
      lastTime += 1;
      timePart = encodeTime(lastTime);
      randomDigits(random);
    }
    let out = timePart;
    for (let i = 0; i < RANDOM_LEN; i++) out += ALPHABET[random[i]!];
    return out;
  };
}

/** The millisecond timestamp inside a ULID. */
export function ulidTime(id: string): number {
  if (!ULID_PATTERN.test(id)) throw new TypeError(`Expected a ULID but received "${id}"`);
  let t = 0;
  for (let i = 0; i < TIME_LEN; i++) t = t * 32 + ALPHABET.indexOf(id[i]!);
  return t;
}

function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > 2 ** 48 - 1) throw new RangeError(`ULID time out of range: ${ms}`);
  let out = '';
  for (let i = 0; i < TIME_LEN; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function randomDigits(digits: Uint8Array): void {
  randomFillSync(digits);
  for (let i = 0; i < digits.length; i++) digits[i]! &= 31;
}

/** Adds one to the base-32 number; false on overflow. */
function increment(digits: Uint8Array): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}
