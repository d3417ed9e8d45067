import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/capture/memory-source.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import { okInspector as inspector } from './helpers.js';

describe('runPipeline with a source the host did not start', () => {
  it('starts it, so the run ends after end() instead of waiting forever', async () => {
    const source = new MemorySource();
    await source.push(new Uint8Array([1]));
    await source.push(new Uint8Array([2]));
    source.end();
    const ids: string[] = [];
    const stats = await runPipeline({ source, inspector, sinks: [], onRecord: (r) => ids.push(r.frameId) });
    expect(ids).toEqual(['memory-1', 'memory-2']);
    expect(stats).toMatchObject({ frames: 2, inspected: 2 });
  }, 5000);

  it('start() twice at once starts the source once', async () => {
    const source = new MemorySource();
    const started: string[] = [];
    source.on('event', (e) => started.push(e.type));
    await Promise.all([source.start(), source.start()]);
    source.end();
    await source.stop();
    expect(started.filter((t) => t === 'started')).toHaveLength(1);
  });
});
