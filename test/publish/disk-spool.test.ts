import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Logger } from '../../src/publish/logger.js';
import { createSpool, type SpoolStore } from '../../src/publish/spool/store.js';

const root = mkdtempSync(join(tmpdir(), 'mmaerec-disk-spool-'));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
async function values(s: SpoolStore): Promise<string[]> {
  const out: string[] = [];
  for await (const e of s.iterate()) out.push(new TextDecoder().decode(e.value));
  return out;
}
function recordingLogger(): Logger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
const segments = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

describe('disk spool', () => {
  test('entries and acknowledgements survive a reopen, in order, and keys keep increasing', async () => {
    const dir = freshDir();
    const a = await createSpool({ kind: 'disk', dir });
    const keys = [];
    for (let i = 0; i < 50; i++) keys.push(await a.put(bytes(`v${i}`)));
    for (let i = 0; i < 50; i += 2) await a.del(keys[i]!);
    await a.close();
    const b = await createSpool({ kind: 'disk', dir });
    expect(await values(b)).toEqual(Array.from({ length: 25 }, (_, i) => `v${2 * i + 1}`));
    expect(b.stats()).toMatchObject({ entries: 25, bytes: 5 * 2 + 20 * 3 });
    const k = await b.put(bytes('new'));
    expect(k).toBeGreaterThan(keys.at(-1)!);
    await b.close();
  });

  test('an abandoned spool (no close, as after SIGKILL) is recovered and its stale lock taken over', async () => {
    const dir = freshDir();
    const a = await createSpool({ kind: 'disk', dir, fsync: 'never' });
    await a.put(bytes('one'));
    await a.put(bytes('two'));
    // Simulate a dead owner: a lock naming a process that does not exist, and a second open from "another process".
    writeFileSync(join(dir, 'LOCK'), '999999999\n');
    await expect(createSpool({ kind: 'disk', dir })).rejects.toMatchObject({ code: 'E_SPOOL', message: expect.stringMatching(/already open in this process: give each sink its own spool.dir/) });
    await a.close();
    writeFileSync(join(dir, 'LOCK'), '999999999\n');
    const b = await createSpool({ kind: 'disk', dir });
    expect(await values(b)).toEqual(['one', 'two']);
    await b.close();
  });

  test('a lock held by a live process is refused with a one-line E_SPOOL', async () => {
    const dir = freshDir();
    const a = await createSpool({ kind: 'disk', dir });
    await a.close();
    writeFileSync(join(dir, 'LOCK'), `${process.ppid}\n`);
    await expect(createSpool({ kind: 'disk', dir })).rejects.toMatchObject({ code: 'E_SPOOL', message: expect.stringMatching(new RegExp(`in use by process ${process.ppid}: give each sink its own spool.dir`)) });
  });

  test('a torn last record (truncated tail) keeps every record before it and logs what was discarded', async () => {
    const dir = freshDir();
    const a = await createSpool({ kind: 'disk', dir });
    for (let i = 0; i < 10; i++) await a.put(bytes(`event-${i}`));
    await a.close();
    const seg = segments(dir).filter((f) => statSync(join(dir, f)).size > 8).at(-1);
    const path = join(dir, seg!);
    truncateSync(path, statSync(path).size - 3); // cut into the last record
    const log = recordingLogger();
    const b = await createSpool({ kind: 'disk', dir, logger: log });
    expect(await values(b)).toEqual(Array.from({ length: 9 }, (_, i) => `event-${i}`));
    const warn = log.lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(new RegExp(`segment ${seg} is damaged \\(torn record at offset \\d+.*kept the 9 records before offset \\d+ and discarded the \\d+ bytes after it`));
    expect(log.lines.find((l) => l.level === 'info')?.msg).toMatch(/recovered 9 unacknowledged events/);
    // New entries still work and the damage is not reported twice.
    await b.put(bytes('after'));
    await b.close();
    const log2 = recordingLogger();
    const c = await createSpool({ kind: 'disk', dir, logger: log2 });
    expect((await values(c)).at(-1)).toBe('after');
    expect(log2.lines.filter((l) => l.level === 'warn')).toEqual([]);
    await c.close();
  });

  test('garbage appended after the last record (checksum mismatch) is detected and skipped', async () => {
    const dir = freshDir();
    const a = await createSpool({ kind: 'disk', dir });
    await a.put(bytes('kept'));
    await a.close();
    const seg = segments(dir).filter((f) => statSync(join(dir, f)).size > 8).at(-1)!;
    const good = readFileSync(join(dir, seg));
    // A complete-looking record header whose CRC does not match its body.
    const fake = Buffer.alloc(8 + 7 + 4);
    fake.writeUInt32LE(11, 0);
    fake.writeUInt32LE(0xdeadbeef, 4);
    fake[8] = 1;
    appendFileSync(join(dir, seg), fake);
    const log = recordingLogger();
    const b = await createSpool({ kind: 'disk', dir, logger: log });
    expect(await values(b)).toEqual(['kept']);
    expect(log.lines.find((l) => l.level === 'warn')?.msg).toMatch(new RegExp(`checksum mismatch at offset ${good.length}`));
    await b.close();
  });

  test('acknowledged segments are deleted, so the directory does not grow with traffic', async () => {
    const dir = freshDir();
    const s = await createSpool({ kind: 'disk', dir, segmentBytes: 4096, fsync: 'never' });
    const payload = new Uint8Array(500).fill(7);
    for (let round = 0; round < 20; round++) {
      const keys = await Promise.all(Array.from({ length: 10 }, () => s.put(payload)));
      for (const k of keys) await s.del(k);
    }
    expect(s.stats()).toMatchObject({ entries: 0, bytes: 0 });
    expect(segments(dir).length).toBeLessThanOrEqual(2);
    await s.close();
  });

  test('two opens of one spool.dir started together: exactly one gets it, the other is refused with E_SPOOL', async () => {
    const dir = freshDir();
    const [a, b] = await Promise.allSettled([createSpool({ kind: 'disk', dir }), createSpool({ kind: 'disk', dir })]);
    const opened = [a, b].filter((r): r is PromiseFulfilledResult<SpoolStore> => r.status === 'fulfilled');
    const refused = [a, b].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(opened).toHaveLength(1);
    expect(refused.map((r) => (r.reason as Error).message)).toEqual([`spool.dir "${dir}" is already open in this process: give each sink its own spool.dir`]);
    await opened[0]!.value.close();
    const again = await createSpool({ kind: 'disk', dir });
    await again.close();
  });

  test('a compaction that fails (disk full) is logged and the spool keeps working: no unhandled rejection', async () => {
    const dir = freshDir();
    const log = recordingLogger();
    const s = await createSpool({ kind: 'disk', dir, segmentBytes: 4096, fsync: 'never', logger: log });
    // Every reclaim (segment deletion and compaction) after open fails, as a compaction write on a full disk would.
    (s as unknown as { reclaim(): Promise<void> }).reclaim = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const stuck = await s.put(bytes('stuck'));
    const payload = new Uint8Array(400).fill(1);
    for (let round = 0; round < 40; round++) {
      const keys = await Promise.all(Array.from({ length: 5 }, () => s.put(payload)));
      for (const k of keys) await s.del(k);
    }
    await s.sync();
    expect(log.lines.some((l) => l.level === 'warn' && /could not reclaim or compact segment files \(ENOSPC.*free disk space in spool.dir/.test(l.msg))).toBe(true);
    const last = await s.put(bytes('after'));
    await s.close();
    const again = await createSpool({ kind: 'disk', dir });
    expect(await values(again)).toEqual(['stuck', 'after']);
    expect(last).toBeGreaterThan(stuck);
    await again.close();
  });

  test('a few never-acknowledged entries do not pin old segments: they are compacted forward', async () => {
    const dir = freshDir();
    const log = recordingLogger();
    const s = await createSpool({ kind: 'disk', dir, segmentBytes: 4096, fsync: 'never', logger: log });
    const stuck = await s.put(bytes('stuck'));
    const payload = new Uint8Array(400).fill(1);
    for (let round = 0; round < 40; round++) {
      const keys = await Promise.all(Array.from({ length: 5 }, () => s.put(payload)));
      for (const k of keys) await s.del(k);
    }
    expect(segments(dir).length).toBeLessThanOrEqual(3);
    expect(log.lines.some((l) => /compacted a segment/.test(l.msg))).toBe(true);
    expect(new TextDecoder().decode(await s.get(stuck))).toBe('stuck');
    await s.close();
    const again = await createSpool({ kind: 'disk', dir });
    expect(await values(again)).toEqual(['stuck']);
    await again.close();
  });

  test('bad disk options and an unusable directory give one-line errors naming the field and the fix', async () => {
    await expect(createSpool({ kind: 'disk', dir: '' })).rejects.toMatchObject({ code: 'E_CONFIG', message: 'spool.dir is missing: give a directory on persistent storage for unacknowledged events' });
    await expect(createSpool({ kind: 'disk', dir: freshDir(), fsync: 'sometimes' as never })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/^spool.fsync "sometimes" is invalid: use "always", "interval" or "never"$/) });
    await expect(createSpool({ kind: 'disk', dir: freshDir(), segmentBytes: 10 })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/^spool.segmentBytes 10 is invalid/) });
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(createSpool({ kind: 'disk', dir: join(file, 'sub') })).rejects.toMatchObject({ code: 'E_SPOOL', message: expect.stringMatching(/cannot create spool.dir ".*a-file\/sub" \(ENOTDIR\): point spool.dir at a writable directory/) });
  });
});
