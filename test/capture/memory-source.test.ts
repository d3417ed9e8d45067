import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/capture/memory-source.js';
import type { Frame } from '../../src/capture/frame.js';

describe('MemorySource', () => {
  it('delivers pushed frames in order, with ids for bare images, and ends after end()', async () => {
    const src = new MemorySource({ name: 'host' });
    await src.start();
    const got: Frame[] = [];
    const reading = (async () => {
      for await (const f of src) got.push(f);
    })();
    const raw = { width: 2, height: 1, channels: 3 as const, data: new Uint8Array(6) };
    await src.push(raw);
    await src.push({ id: 'mine', capturedAt: 5, image: new Uint8Array([1, 2]) });
    await src.push(new Uint8Array([9]));
    src.end();
    await reading;
    expect(got.map((f) => f.id)).toEqual(['host-1', 'mine', 'host-2']);
    expect(got[0]!.image).toBe(raw);
    expect(got[1]!.capturedAt).toBe(5);
    expect(src.stats()).toMatchObject({ produced: 3, dropped: 0 });
    await expect(src.push(raw)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/after end\(\)/) });
  });

  it('drop-oldest counts the frames it discards when the consumer is slow', async () => {
    const src = new MemorySource({ policy: 'drop-oldest', queueCapacity: 2 });
    const drops: string[] = [];
    src.on('event', (e) => e.type === 'drop' && drops.push(e.frameId));
    await src.start();
    for (let i = 0; i < 6; i++) await src.push(new Uint8Array([i]));
    src.end();
    const got: string[] = [];
    for await (const f of src) got.push(f.id);
    expect(got).toEqual(['memory-5', 'memory-6']);
    expect(src.stats().dropped).toBe(4);
    expect(drops).toEqual(['memory-1', 'memory-2', 'memory-3', 'memory-4']);
  });

  it('block makes push wait while the queue is full', async () => {
    const src = new MemorySource({ queueCapacity: 1 });
    await src.start();
    await src.push(new Uint8Array([1]));
    let second = false;
    const p = src.push(new Uint8Array([2])).then(() => (second = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(false);
    const it = src[Symbol.asyncIterator]();
    expect((await it.next()).value.id).toBe('memory-1');
    await p;
    expect(second).toBe(true);
    await src.stop();
    expect((await it.next()).value.id).toBe('memory-2');
    expect((await it.next()).done).toBe(true);
    expect(src.stats().dropped).toBe(0);
  });
});
