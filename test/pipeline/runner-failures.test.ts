import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/capture/memory-source.js';
import type { PipelineRecord } from '../../src/decide/result.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import { okInspector as inspector } from './helpers.js';
import type { Sink } from '../../src/publish/sink.js';

class CollectingSink implements Sink {
  readonly name = 'collect';
  ids: string[] = [];
  closed = false;
  async write(r: PipelineRecord): Promise<void> {
    this.ids.push(r.frameId);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

describe('runPipeline when onRecord throws', () => {
  it('rejects with the error after every frame already taken reached the sinks, and closes them (no hang)', async () => {
    const source = new MemorySource();
    for (let i = 0; i < 5; i++) await source.push({ id: `f${i}`, capturedAt: i, image: new Uint8Array([i]) });
    source.end();
    const sink = new CollectingSink();
    const running = runPipeline({
      source, inspector, sinks: [sink], maxInFlight: 1,
      onRecord: (r) => {
        if (r.frameId === 'f0') throw new Error('host callback broke');
      },
    });
    await expect(running).rejects.toThrow('host callback broke');
    expect(sink.ids).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    expect(sink.closed).toBe(true);
  }, 5000);
});
