import { mkdtemp, mkdir, rename, rm, symlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesSource } from '../../src/capture/files-source.js';
import { compileGlob, listGlob } from '../../src/capture/glob.js';
import type { Frame } from '../../src/capture/frame.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('compileGlob', () => {
  it('matches *, ?, **, {a,b} and [..] relative to the base folder', () => {
    const g = compileGlob('/data/cam/**/*.{png,jpg}');
    expect(g.base).toBe('/data/cam');
    expect(['a.png', 'x/y/b.jpg', 'c.bmp', 'x/c.png.tmp'].map((p) => g.regex.test(p))).toEqual([true, true, false, false]);
    const h = compileGlob('/d/img_??.[pj]*');
    expect(h.maxDepth).toBe(1);
    expect(['img_01.png', 'img_1.png', 'img_ab.jpg', 'img_01.bmp'].map((p) => h.regex.test(p))).toEqual([true, false, true, false]);
  });
});

describe('listGlob', () => {
  it('follows folder symlinks but not round a loop back to an ancestor (each file once per path)', async () => {
    await mkdir(path.join(dir, 'cam', 'sub'), { recursive: true });
    await writeFile(path.join(dir, 'cam', 'a.png'), 'a');
    await writeFile(path.join(dir, 'cam', 'sub', 'b.png'), 'b');
    await symlink('..', path.join(dir, 'cam', 'sub', 'up')); // cam/sub/up -> cam: a loop under **
    await mkdir(path.join(dir, 'other'));
    await writeFile(path.join(dir, 'other', 'c.png'), 'c');
    await symlink(path.join(dir, 'other'), path.join(dir, 'cam', 'linked')); // a plain link is followed
    const found = await listGlob(compileGlob(path.join(dir, 'cam', '**', '*.png')));
    expect(found.map((f) => path.relative(dir, f))).toEqual(['cam/a.png', 'cam/linked/c.png', 'cam/sub/b.png']);
  });
});

describe('FilesSource', () => {
  it('delivers matching files once each, sorted, with relative ids, mtimes and bytes', async () => {
    await mkdir(path.join(dir, 'sub'));
    for (const name of ['b.png', 'a.png', 'sub/c.png', 'skip.txt']) await writeFile(path.join(dir, name), name);
    const src = new FilesSource({ patterns: path.join(dir, '**/*.png') });
    await src.start();
    const got: Frame[] = [];
    for await (const f of src) got.push(f);
    expect(got.map((f) => f.id)).toEqual(['a.png', 'b.png', 'sub/c.png']);
    expect(Buffer.from(got[2]!.image as Uint8Array).toString()).toBe('sub/c.png');
    expect(got[0]!.origin).toBe(path.join(dir, 'a.png'));
    expect(got[0]!.capturedAt).toBeGreaterThan(1e12);
    expect(src.stats()).toMatchObject({ produced: 3, dropped: 0, errors: 0 });
  });

  it('ids are relative to the pattern whose folder holds the file, also when one folder name prefixes another', async () => {
    await mkdir(path.join(dir, 'cam'));
    await mkdir(path.join(dir, 'cam2'));
    await writeFile(path.join(dir, 'cam', 'a.png'), 'a');
    await writeFile(path.join(dir, 'cam2', 'b.png'), 'b');
    const src = new FilesSource({ patterns: [path.join(dir, 'cam', '*.png'), path.join(dir, 'cam2', '*.png')] });
    await src.start();
    const ids: string[] = [];
    for await (const f of src) ids.push(f.id);
    expect(ids).toEqual(['a.png', 'b.png']);
  });

  it('takes a folder as every file directly in it', async () => {
    await writeFile(path.join(dir, '1.jpg'), 'x');
    const src = new FilesSource({ patterns: dir });
    await src.start();
    const ids: string[] = [];
    for await (const f of src) ids.push(f.id);
    expect(ids).toEqual(['1.jpg']);
  });

  it('refuses a pattern with no match (E_INPUT naming the pattern and the fix)', async () => {
    const src = new FilesSource({ patterns: path.join(dir, '*.png') });
    await expect(src.start()).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/no file matches .*\*\.png: check the path/) });
  });

  it('watch mode picks up files that appear during the run, only once completely written', async () => {
    await writeFile(path.join(dir, '0-existing.png'), 'old');
    // stableMs far above the 60 ms gaps between writes: a loaded CI machine can stall timers for hundreds of ms.
    const src = new FilesSource({ patterns: path.join(dir, '*.png'), watch: true, stableMs: 2000, pollMs: 30 });
    await src.start();
    const got: Frame[] = [];
    const reading = (async () => {
      for await (const f of src) got.push(f);
    })();
    // A camera writing slowly: the file grows in three steps; it must be read only when complete.
    const slow = path.join(dir, '1-slow.png');
    await writeFile(slow, 'part1-');
    await new Promise((r) => setTimeout(r, 60));
    await appendFile(slow, 'part2-');
    await new Promise((r) => setTimeout(r, 60));
    await appendFile(slow, 'part3');
    // A camera that writes elsewhere and renames into place.
    const tmp = path.join(dir, '2-renamed.png.partial');
    await writeFile(tmp, 'renamed-content');
    await rename(tmp, path.join(dir, '2-renamed.png'));
    const deadline = Date.now() + 10_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await src.stop();
    await reading;
    expect(got.map((f) => f.id)).toEqual(['0-existing.png', '1-slow.png', '2-renamed.png']);
    expect(Buffer.from(got[1]!.image as Uint8Array).toString()).toBe('part1-part2-part3');
    expect(Buffer.from(got[2]!.image as Uint8Array).toString()).toBe('renamed-content');
    expect(src.stats().produced).toBe(3);
  });

  it('watch mode: a file still being written when the source starts is read only once complete', async () => {
    const file = path.join(dir, 'camera.png');
    await writeFile(file, 'part1-');
    const src = new FilesSource({ patterns: path.join(dir, '*.png'), watch: true, stableMs: 1000, pollMs: 30 });
    await src.start();
    const got: Frame[] = [];
    const reading = (async () => {
      for await (const f of src) got.push(f);
    })();
    await new Promise((r) => setTimeout(r, 60));
    await appendFile(file, 'part2');
    const deadline = Date.now() + 10_000;
    while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await src.stop();
    await reading;
    expect(got.map((f) => Buffer.from(f.image as Uint8Array).toString())).toEqual(['part1-part2']);
  });

  it('watch mode stopped while the last existing file waits for queue room leaves no fs watcher open', async () => {
    await writeFile(path.join(dir, 'a.png'), 'a');
    await writeFile(path.join(dir, 'b.png'), 'b');
    const watchers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
    const before = watchers();
    const src = new FilesSource({ patterns: path.join(dir, '*.png'), watch: true, queueCapacity: 1, pollMs: 30 });
    await src.start();
    // a.png fills the queue; b.png then waits in push() for room.
    while (src.stats().produced < 1) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    const stopping = src.stop();
    const got: string[] = [];
    for await (const f of src) got.push(f.id);
    await stopping;
    await new Promise((r) => setTimeout(r, 20)); // a closed handle leaves the list once libuv has closed it
    expect(got).toEqual(['a.png', 'b.png']);
    expect(watchers()).toBe(before);
  });
});
