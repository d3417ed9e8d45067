import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../../src/capture/queue.js';
import { Backoff } from '../../src/util/backoff.js';

async function drain<T>(q: BoundedQueue<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of q) out.push(x);
  return out;
}

describe('BoundedQueue', () => {
  it('rejects bad options at the call site', () => {
    expect(() => new BoundedQueue({ capacity: 0, policy: 'block' })).toThrow(/positive integer for capacity/);
    expect(() => new BoundedQueue({ capacity: 2, policy: 'newest' as never })).toThrow(/'block' or 'drop-oldest'/);
  });

  it('block: a push into a full queue waits for a take and nothing is dropped', async () => {
    const q = new BoundedQueue<number>({ capacity: 2, policy: 'block' });
    await q.push(1);
    await q.push(2);
    let third = false;
    const p = q.push(3).then(() => (third = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBe(false);
    expect(q.size).toBe(2);
    expect(await q.take()).toEqual({ value: 1, done: false });
    await p;
    expect(third).toBe(true);
    q.close();
    expect(await drain(q)).toEqual([2, 3]);
    expect(q.dropped).toBe(0);
  });

  it('drop-oldest: a full queue discards its oldest items and counts them', async () => {
    const dropped: number[] = [];
    const q = new BoundedQueue<number>({ capacity: 3, policy: 'drop-oldest', onDrop: (x) => dropped.push(x as number) });
    for (let i = 1; i <= 10; i++) await q.push(i);
    q.close();
    expect(await drain(q)).toEqual([8, 9, 10]);
    expect(q.dropped).toBe(7);
    expect(dropped).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('close wakes a waiting taker with done and rejects waiting pushers', async () => {
    const q = new BoundedQueue<number>({ capacity: 1, policy: 'block' });
    const t = q.take();
    q.close();
    expect(await t).toEqual({ value: undefined, done: true });
    await expect(q.push(1)).rejects.toThrow(/closed/);
    const q2 = new BoundedQueue<number>({ capacity: 1, policy: 'block' });
    await q2.push(1);
    const waiting = q2.push(2);
    q2.close();
    await expect(waiting).rejects.toThrow(/closed/);
  });
});

describe('Backoff', () => {
  it('doubles the ceiling up to the maximum, with jitter, and resets', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect([low.next(), low.next()]).toEqual([50, 100]); // the lower half is kept: never a zero-delay crash loop
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(/maxMs >= initialMs/);
  });
});
