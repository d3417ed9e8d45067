import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/capture/memory-source.js';
import type { Frame } from '../../src/capture/frame.js';
import type { PipelineRecord } from '../../src/decide/result.js';
import { runPipeline } from '../../src/pipeline/runner.js';
import type { Sink } from '../../src/publish/sink.js';

/** An inspector double: every frame is "ok" with score 0. */
const inspector = {
  async inspectRecord(frame: Frame): Promise<PipelineRecord> {
    return {
      kind: 'inspection', frameId: frame.id, capturedAt: frame.capturedAt, finishedAt: Date.now(), score: 0, imageThreshold: 1, pixelThreshold: 1,
      verdict: 'ok', regions: [], latency: { decodeMs: 0, preprocessMs: 0, inferMs: 0, scoreMs: 0, totalMs: 0 },
      model: { bundleName: 't', bundleSha256: 'x', backend: 'fake' },
    };
  },
};

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
