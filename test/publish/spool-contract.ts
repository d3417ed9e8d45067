import { describe, expect, test } from 'vitest';
import type { SpoolOptions, SpoolStore } from '../../src/publish/spool/store.js';

/**
 * The contract every spool store must pass (the MQTT.js abstract_store idea): the sink relies on exactly this.
 * `open` gets options without `kind`; each call must give a fresh, empty store.
 */
export type OpenSpool = (options?: Partial<Omit<SpoolOptions, 'kind'>>) => Promise<SpoolStore>;

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

async function collect(store: SpoolStore, after?: number): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for await (const e of store.iterate(after)) out.push([e.key, text(e.value)!]);
  return out;
}

export function spoolContract(name: string, open: OpenSpool): void {
  describe(`spool contract: ${name}`, () => {
    test('put returns increasing keys and get returns the bytes', async () => {
      const s = await open();
      const k1 = await s.put(bytes('a'));
      const k2 = await s.put(bytes('bb'));
      expect(k2).toBeGreaterThan(k1);
      expect(text(await s.get(k1))).toBe('a');
      expect(text(await s.get(k2))).toBe('bb');
      expect(await s.get(k2 + 100)).toBeUndefined();
      expect(s.stats()).toMatchObject({ entries: 2, bytes: 3, dropped: 0, rejected: 0 });
      await s.close();
    });

    test('concurrent puts keep their call order as key order', async () => {
      const s = await open();
      const keys = await Promise.all(Array.from({ length: 200 }, (_, i) => s.put(bytes(`e${i}`))));
      expect([...keys].sort((a, b) => a - b)).toEqual(keys);
      expect((await collect(s)).map(([, v]) => v)).toEqual(Array.from({ length: 200 }, (_, i) => `e${i}`));
      await s.close();
    });

    test('the stored value is a copy: changing the caller buffer afterwards changes nothing', async () => {
      const s = await open();
      const buf = bytes('xyz');
      const k = await s.put(buf);
      buf[0] = 0x41;
      expect(text(await s.get(k))).toBe('xyz');
      await s.close();
    });

    test('del removes once, updates stats, and iterate skips deleted entries', async () => {
      const s = await open();
      const keys = [];
      for (const v of ['a', 'b', 'c', 'd']) keys.push(await s.put(bytes(v)));
      expect(await s.del(keys[1]!)).toBe(true);
      expect(await s.del(keys[1]!)).toBe(false);
      expect(await s.get(keys[1]!)).toBeUndefined();
      expect((await collect(s)).map(([, v]) => v)).toEqual(['a', 'c', 'd']);
      expect(s.stats()).toMatchObject({ entries: 3, bytes: 3 });
      await s.close();
    });

    test('iterate(after) starts after a key and sees entries added while iterating', async () => {
      const s = await open();
      const k1 = await s.put(bytes('1'));
      await s.put(bytes('2'));
      expect((await collect(s, k1)).map(([, v]) => v)).toEqual(['2']);
      const seen: string[] = [];
      let added = false;
      for await (const e of s.iterate()) {
        seen.push(text(e.value)!);
        if (!added) {
          added = true;
          await s.put(bytes('3'));
          await s.del(k1 + 1); // '2', not yet visited: must be skipped
        }
      }
      expect(seen).toEqual(['1', '3']);
      await s.close();
    });

    test('empty store iterates nothing; an empty value round-trips', async () => {
      const s = await open();
      expect(await collect(s)).toEqual([]);
      const k = await s.put(new Uint8Array(0));
      expect((await s.get(k))?.byteLength).toBe(0);
      await s.close();
    });

    test('bad values are refused with TypeError', async () => {
      const s = await open();
      await expect(s.put('text' as unknown as Uint8Array)).rejects.toThrow(TypeError);
      await s.close();
    });

    test('reject-new: a full spool rejects with E_SPOOL and keeps every accepted entry', async () => {
      const s = await open({ maxBytes: 10, whenFull: 'reject-new' });
      await s.put(bytes('12345'));
      await s.put(bytes('67890'));
      const err = await s.put(bytes('x')).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_SPOOL' });
      expect((err as Error).message).toMatch(/spool is full \(10 of 10 bytes.*raise spool.maxBytes/);
      expect((await collect(s)).map(([, v]) => v)).toEqual(['12345', '67890']);
      expect(s.stats()).toMatchObject({ entries: 2, bytes: 10, rejected: 1, dropped: 0 });
      // Room again after an acknowledgement.
      const [first] = await collect(s);
      await s.del(first![0]);
      await s.put(bytes('abc'));
      expect(s.stats().entries).toBe(2);
      await s.close();
    });

    test('drop-oldest: a full spool drops the oldest entries, counts them, and accepts the new one', async () => {
      const s = await open({ maxBytes: 10, whenFull: 'drop-oldest' });
      for (const v of ['aaaa', 'bbbb', 'cc']) await s.put(bytes(v));
      await s.put(bytes('ddddd'));
      expect((await collect(s)).map(([, v]) => v)).toEqual(['cc', 'ddddd']);
      expect(s.stats()).toMatchObject({ entries: 2, bytes: 7, dropped: 2, rejected: 0 });
      await s.close();
    });

    test('an entry larger than the whole spool is rejected under either policy', async () => {
      for (const whenFull of ['reject-new', 'drop-oldest'] as const) {
        const s = await open({ maxBytes: 4, whenFull });
        await s.put(bytes('ab'));
        await expect(s.put(bytes('abcde'))).rejects.toMatchObject({ code: 'E_SPOOL', message: expect.stringMatching(/larger than the whole spool/) });
        expect(s.stats().entries).toBe(1);
        await s.close();
      }
    });

    test('invalid size options are E_CONFIG errors naming the field', async () => {
      await expect(open({ maxBytes: -1 })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/^spool.maxBytes -1 is invalid/) });
      await expect(open({ whenFull: 'drop-newest' as never })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/spool.whenFull "drop-newest".*"reject-new" or "drop-oldest"/) });
    });

    test('after close, put rejects with E_SPOOL', async () => {
      const s = await open();
      await s.close();
      await expect(s.put(bytes('late'))).rejects.toMatchObject({ code: 'E_SPOOL', message: expect.stringMatching(/closed/) });
    });
  });
}
