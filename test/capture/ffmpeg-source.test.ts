import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegSource } from '../../src/capture/ffmpeg-source.js';
import { GstreamerSource, framerateFraction } from '../../src/capture/gstreamer-source.js';
import type { SourceEvent } from '../../src/capture/source.js';
import type { RawImage } from '../../src/capture/frame.js';
import { needs, tools } from '../helpers/require-tool.js';

const hasFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
let video: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-ffmpeg-'));
  video = path.join(dir, 'clip.mkv');
  if (hasFfmpeg) {
    // 12 frames of ffmpeg's test pattern at 64×48, 25 fps, lossless so pixel checks are stable.
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=25', '-frames:v', '12', '-c:v', 'ffv1', video]);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

needs(tools.ffmpeg()).describe('FfmpegSource', () => {
  it('decodes every frame of a video file to raw RGB of the configured size, then ends', async () => {
    const src = new FfmpegSource({ input: video, width: 32, height: 24 });
    await src.start();
    const frames: RawImage[] = [];
    const ids: string[] = [];
    for await (const f of src) {
      frames.push(f.image as RawImage);
      ids.push(f.id);
    }
    expect(frames).toHaveLength(12);
    expect(ids.slice(0, 3)).toEqual(['ffmpeg-1', 'ffmpeg-2', 'ffmpeg-3']);
    expect(frames[0]).toMatchObject({ width: 32, height: 24, channels: 3 });
    expect(frames[0]!.data.length).toBe(32 * 24 * 3);
    // testsrc is colourful, not blank: the frame carries real pixels.
    expect(new Set(frames[0]!.data).size).toBeGreaterThan(20);
    expect(src.stats()).toMatchObject({ produced: 12, restarts: 0, errors: 0 });
  });

  it('restarts a camera process that dies, reports it, and keeps delivering frames', async () => {
    // A looping, real-time file stands in for a camera: live behaviour (restart, drop-oldest).
    const src = new FfmpegSource({ input: video, width: 16, height: 12, loop: true, realtime: true, backoff: { initialMs: 50, maxMs: 200 } });
    const events: SourceEvent[] = [];
    src.on('event', (e) => events.push(e));
    await src.start();
    const it = src[Symbol.asyncIterator]();
    await it.next();
    const firstPid = src.pid!;
    expect(firstPid).toBeGreaterThan(0);
    process.kill(firstPid, 'SIGKILL');
    // Frames continue from a new process.
    let after = 0;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const r = await it.next();
      if (r.done) break;
      if (src.pid && src.pid !== firstPid) after += 1;
      if (after >= 3) break;
    }
    await src.stop();
    expect(after).toBe(3);
    expect(src.stats().restarts).toBeGreaterThanOrEqual(1);
    const exit = events.find((e) => e.type === 'exit');
    expect(exit).toMatchObject({ type: 'exit', signal: 'SIGKILL' });
    expect(events.find((e) => e.type === 'restart')).toMatchObject({ attempt: 1, reason: expect.stringMatching(/killed by SIGKILL/) });
  });

  it('kills and restarts a process that stops delivering frames (stall watchdog)', async () => {
    // `-readrate` far below real time makes ffmpeg go quiet: the watchdog must notice.
    const src = new FfmpegSource({
      input: video, width: 16, height: 12, loop: true, restart: true, stallTimeoutMs: 300, firstFrameTimeoutMs: 300,
      inputArgs: ['-readrate', '0.01'], backoff: { initialMs: 20, maxMs: 50 }, maxRestarts: 1,
    });
    const events: SourceEvent[] = [];
    src.on('event', (e) => events.push(e));
    await src.start();
    const frames: number[] = [];
    for await (const f of src) frames.push(f.capturedAt);
    expect(events.filter((e) => e.type === 'stall').length).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.type === 'error' && /gave up after 1 restarts/.test(e.message))).toBe(true);
  });

  it('a process that cannot open its input fails with a reported error, not a silent stall', async () => {
    const src = new FfmpegSource({ input: path.join(dir, 'missing.mkv'), width: 16, height: 12 });
    const events: SourceEvent[] = [];
    src.on('event', (e) => events.push(e));
    await src.start();
    for await (const _ of src) throw new Error('no frame expected');
    const err = events.find((e) => e.type === 'error');
    expect(err).toMatchObject({ message: expect.stringMatching(/capture process failed \(exit code \d+: .*missing\.mkv.*\): check the input/) });
    expect(src.stats().errors).toBe(1);
  });
});

describe('GstreamerSource', () => {
  it('says so when gst-launch-1.0 is not installed', async () => {
    const src = new GstreamerSource({ input: '/dev/video0', width: 16, height: 12, gstLaunchPath: path.join(dir, 'no-such-gst-launch-1.0') });
    await expect(src.start()).rejects.toMatchObject({ code: 'E_UNSUPPORTED', message: expect.stringMatching(/gst-launch-1.0 is not installed: install gstreamer1.0-tools/) });
  });

  it('builds a pipeline that ends in RGB caps of the configured size on fd 1', () => {
    const src = new GstreamerSource({ input: 'rtsp://cam/stream', width: 320, height: 240, fps: 5 });
    expect(src.pipelineArgs().join(' ')).toBe(
      '-q uridecodebin uri=rtsp://cam/stream ! videoconvert ! videoscale ! videorate ! video/x-raw,format=RGB,width=320,height=240,framerate=5/1 ! fdsink fd=1',
    );
  });

  it('writes fractional frame rates as GStreamer fractions', () => {
    expect([5, 7.5, 12.5, 29.97, 0.5, 59.94].map(framerateFraction)).toEqual(['5/1', '15/2', '25/2', '2997/100', '1/2', '2997/50']);
    expect(framerateFraction(30000 / 1001)).toBe('30000/1001');
    const src = new GstreamerSource({ input: '/dev/video0', width: 64, height: 48, fps: 7.5 });
    expect(src.pipelineArgs()).toContain('video/x-raw,format=RGB,width=64,height=48,framerate=15/2');
  });

  needs(tools.gstreamer(), tools.ffmpeg()).it('decodes a video file', async () => {
    const src = new GstreamerSource({ input: video, width: 32, height: 24 });
    await src.start();
    let n = 0;
    for await (const f of src) n += (f.image as RawImage).data.length === 32 * 24 * 3 ? 1 : 0;
    expect(n).toBe(12);
  });
});

needs(tools.ffmpeg()).describe('FfmpegSource backpressure', () => {
  it('block: a slow consumer is not mistaken for a stall, and no frame is lost', async () => {
    const src = new FfmpegSource({ input: video, width: 16, height: 12, queueCapacity: 1, stallTimeoutMs: 100 });
    const events: SourceEvent[] = [];
    src.on('event', (e) => events.push(e));
    await src.start();
    let n = 0;
    for await (const _ of src) {
      n += 1;
      await new Promise((r) => setTimeout(r, 60)); // slower than the watchdog's patience
    }
    expect(n).toBe(12);
    expect(events.filter((e) => e.type === 'stall')).toEqual([]);
    expect(src.stats()).toMatchObject({ dropped: 0, restarts: 0 });
  });

  it('drop-oldest: a live source drops frames for a slow consumer and counts them', async () => {
    const src = new FfmpegSource({ input: video, width: 16, height: 12, loop: true, queueCapacity: 2 });
    expect(src.stats().dropped).toBe(0);
    await src.start();
    let n = 0;
    for await (const _ of src) {
      n += 1;
      await new Promise((r) => setTimeout(r, 30));
      if (n === 5) void src.stop();
    }
    const s = src.stats();
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.produced - s.dropped).toBe(n);
  });
});
