import { describe, expect, it } from 'vitest';
import { MmaerecError, isMmaerecError } from '../../src/errors.js';
import { assertFloat32Length, assertPositiveInt } from '../../src/util/is.js';

describe('errors', () => {
  it('carries a stable code and a cause', () => {
    const cause = new Error('disk');
    const err = new MmaerecError('E_IO', 'cannot write x: check permissions', { cause });
    expect(err.code).toBe('E_IO');
    expect(err.cause).toBe(cause);
    expect(isMmaerecError(err)).toBe(true);
    expect(isMmaerecError(new Error('x'))).toBe(false);
  });

  it('argument checks name the parameter and what was received', () => {
    expect(() => assertPositiveInt('width', 0)).toThrow('Expected a positive integer for width but received 0');
    expect(() => assertFloat32Length('input', new Float32Array(3), 12)).toThrow(
      'Expected input to have 12 elements but it has 3',
    );
    expect(() => assertFloat32Length('input', [1, 2], 2)).toThrow(TypeError);
  });
});
