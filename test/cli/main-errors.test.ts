import { afterEach, describe, expect, it, vi } from 'vitest';
import { MmaerecError } from '../../src/errors.js';
import { INTERNAL_ERROR_STATUS, main } from '../../src/cli/main.js';
import { defineCommand } from '../../src/cli/registry.js';

// Two commands that fail on purpose: one as the SDK reports (MmaerecError), one as a bug would (any other error).
defineCommand('test-fail-coded', 'fails with E_INPUT', async () => ({
  register: (p) => void p.command('test-fail-coded').action(() => { throw new MmaerecError('E_INPUT', 'frame x is unusable: send another'); }),
}));
defineCommand('test-fail-bug', 'fails like a bug', async () => ({
  register: (p) => void p.command('test-fail-bug').action(() => { throw Object.assign(new TypeError('bad\nthing\u001b[31m'), { code: 'ERR_X' }); }),
}));

function stderrOf(): { lines: () => string[] } {
  const out: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  return { lines: () => out.join('').split('\n').filter(Boolean) };
}

describe('main: top-level errors', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete process.env.MMAEREC_DEBUG;
  });

  it('an SDK error: one line, exit 1, and the reported hook gets its code', async () => {
    const err = stderrOf();
    const reported: string[] = [];
    expect(await main(['test-fail-coded'], { reported: (e) => reported.push(e.code) })).toBe(1);
    expect(err.lines()).toEqual(['mmaerec-edge: frame x is unusable: send another']);
    expect(reported).toEqual(['E_INPUT']);
  });

  it('any other error is a bug: one line without a stack or control characters, exit 70, the internal hook gets it', async () => {
    const err = stderrOf();
    const internal: Error[] = [];
    expect(await main(['test-fail-bug'], { internal: (e) => internal.push(e) })).toBe(INTERNAL_ERROR_STATUS);
    expect(INTERNAL_ERROR_STATUS).toBe(70);
    expect(err.lines()).toEqual([
      'mmaerec-edge: internal error (TypeError ERR_X: bad thing [31m): this is a bug in mmaerec-edge; run again with MMAEREC_DEBUG=1 for the stack and report it',
    ]);
    expect(internal.map((e) => e.name)).toEqual(['TypeError']);
  });

  it('MMAEREC_DEBUG=1 rethrows the bug for its stack', async () => {
    stderrOf();
    process.env.MMAEREC_DEBUG = '1';
    await expect(main(['test-fail-bug'])).rejects.toThrow(TypeError);
  });
});
