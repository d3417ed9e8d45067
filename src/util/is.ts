/** Argument checks for the public API, in the spirit of sharp's lib/is.js: fail at the caller's line. */

export function invalidParameterError(name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as { length: number }).length}`;
  if (typeof value === 'number') return `${value}`;
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '…' : value}"`;
  return typeof value;
}

export function assertPositiveInt(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw invalidParameterError(name, 'a positive integer', value);
  }
}

export function assertFloat32Length(name: string, value: unknown, length: number): asserts value is Float32Array {
  if (!(value instanceof Float32Array)) throw invalidParameterError(name, 'a Float32Array', value);
  if (value.length !== length) {
    throw new RangeError(`Expected ${name} to have ${length} elements but it has ${value.length}`);
  }
}
