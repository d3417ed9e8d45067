import { describe, expect, test } from 'vitest';
import { backoffDelay } from '../../src/util/backoff.js';
import { errorEventSchema, eventJsonSchemas, eventSchema, inspectionEventSchema, statusEventSchema, toEvent } from '../../src/publish/events.js';
import { redactConfig, redactUrl } from '../../src/publish/mqtt-config.js';
import { decodeOutbox, encodeOutbox } from '../../src/publish/outbox-entry.js';
import { resolveTopics } from '../../src/publish/topics.js';
import { monotonicUlid, ulidTime, ULID_PATTERN } from '../../src/publish/ulid.js';
import { errorRecord, inspection } from './fixtures/records.js';

const ctx = { line: 'L1', station: 'S2', camera: 'cam-3' };

describe('event ids (ULID)', () => {
  test('monotonic within one millisecond, across time, and when the clock steps back', () => {
    const next = monotonicUlid();
    const ids = [next(1000), next(1000), next(1000), next(999), next(2000)];
    for (const id of ids) expect(id).toMatch(ULID_PATTERN);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ulidTime(ids[0]!)).toBe(1000);
    expect(ulidTime(ids[3]!)).toBe(1000); // clock went back: keeps the last time, still increasing
    expect(ulidTime(ids[4]!)).toBe(2000);
  });

  test('encodes time in the first 10 characters (spec example) and rejects non-ULIDs', () => {
    expect(monotonicUlid()(1469918176385).slice(0, 10)).toBe('01ARYZ6S41');
    expect(() => ulidTime('not-a-ulid')).toThrow(TypeError);
  });
});

describe('toEvent', () => {
  test('maps an inspection result field by field, with ISO times and the source ids', () => {
    const record = inspection(7, 'defect', 10);
    const e = toEvent(record, { ...ctx, heatmapTopic: (id) => `hm/${id}` });
    expect(inspectionEventSchema.parse(e)).toEqual(e);
    expect(e).toEqual({
      schema: 'mmaerec.inspection/1',
      id: e.id,
      line: 'L1',
      station: 'S2',
      camera: 'cam-3',
      frameId: 'frame-7',
      origin: '/data/frame-7.png',
      capturedAt: '2026-09-21T14:13:20.007Z',
      finishedAt: '2026-09-21T14:13:20.019Z',
      verdict: 'defect',
      score: 0.91,
      imageThreshold: 0.5,
      pixelThreshold: 0.4,
      regions: [{ x: 10, y: 20, width: 30, height: 40, area: 900, maxScore: 0.95, meanScore: 0.7 }],
      latency: { decodeMs: 1, preprocessMs: 2, inferMs: 5, scoreMs: 3, totalMs: 11 },
      model: { bundleName: 'magnetic-tile', bundleSha256: 'a'.repeat(64), backend: 'onnxruntime-cpu' },
      heatmap: { topic: `hm/${e.id}`, format: 'png', width: 64, height: 64, bytes: 10 },
    });
    // The image bytes never travel inside the JSON event.
    expect(JSON.stringify(e)).not.toContain('"data"');
  });

  test('maps an error record; no heatmap reference without a heatmap topic', () => {
    const e = toEvent(errorRecord(3), ctx);
    expect(errorEventSchema.parse(e)).toMatchObject({ schema: 'mmaerec.error/1', code: 'E_INPUT', frameId: 'frame-3' });
    expect(toEvent(inspection(1, 'defect', 10), ctx)).not.toHaveProperty('heatmap');
  });

  test('ids differ per event and sort in creation order', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => toEvent(inspection(i), ctx).id);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });

  test('schemas reject an unknown version, a bad id and a missing field', () => {
    const good = toEvent(inspection(1), ctx);
    expect(eventSchema.safeParse({ ...good, schema: 'mmaerec.inspection/2' }).success).toBe(false);
    expect(eventSchema.safeParse({ ...good, id: 'abc' }).success).toBe(false);
    const { verdict: _drop, ...partial } = good;
    expect(eventSchema.safeParse(partial).success).toBe(false);
    expect(statusEventSchema.safeParse({ schema: 'mmaerec.status/1', id: good.id, ...ctx, state: 'online', reason: 'birth', at: good.capturedAt, clientId: 'x', sdkVersion: '0.1.0' }).success).toBe(true);
  });

  test('JSON Schema export: one draft 2020-12 schema per event, with const schema names and required fields', () => {
    const schemas = eventJsonSchemas() as Record<string, { $schema: string; properties: Record<string, { const?: string }>; required: string[] }>;
    expect(Object.keys(schemas)).toEqual(['mmaerec.inspection/1', 'mmaerec.error/1', 'mmaerec.status/1', 'mmaerec.model/1']);
    for (const [name, s] of Object.entries(schemas)) {
      expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(s.properties.schema!.const).toBe(name);
      // A model swap is the station's (one model serves every camera), so it names no camera.
      expect(s.required).toEqual(expect.arrayContaining(['schema', 'id', 'line', 'station', ...(name === 'mmaerec.model/1' ? ['outcome', 'candidate'] : ['camera'])]));
    }
    expect(schemas['mmaerec.inspection/1']!.required).toEqual(expect.arrayContaining(['verdict', 'score', 'regions', 'model', 'latency']));
  });
});

describe('topics', () => {
  test('default layout and overrides with placeholders', () => {
    const t = resolveTopics(ctx);
    expect([t.defect, t.inspection, t.error, t.status, t.heatmap('01H')]).toEqual([
      'mmaerec/L1/S2/defect', 'mmaerec/L1/S2/inspection', 'mmaerec/L1/S2/error', 'mmaerec/L1/S2/status', 'mmaerec/L1/S2/heatmap/01H',
    ]);
    const custom = resolveTopics(ctx, { defect: 'plant/{line}/{camera}/ng', heatmap: 'img/{station}/{eventId}' });
    expect([custom.defect, custom.heatmap('X')]).toEqual(['plant/L1/cam-3/ng', 'img/S2/X']);
  });

  test.each([
    [{ defect: 'a/+/b' }, 'mqtt.topics.defect "a/+/b" is not a valid topic (wildcards and empty levels are not allowed): use a topic such as "mmaerec/{line}/{station}/defect"'],
    [{ status: 'a//b' }, 'mqtt.topics.status "a//b" is not a valid topic (wildcards and empty levels are not allowed): use a topic such as "mmaerec/{line}/{station}/defect"'],
    [{ error: 'x/{plant}' }, 'mqtt.topics.error uses unknown placeholder {plant}: use only {line}, {station}, {camera}'],
  ])('bad layout %j → E_CONFIG', (layout, message) => {
    expect(() => resolveTopics(ctx, layout)).toThrow(expect.objectContaining({ code: 'E_CONFIG', message }));
  });
});

describe('small parts', () => {
  test('backoff: grows by the factor up to the cap, jitter within [cap/2, cap]', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, o, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([0, 1, 4].map((a) => backoffDelay(a, o, () => 0))).toEqual([50, 100, 500]);
  });

  test('outbox entries round-trip and unknown versions are refused', () => {
    const m = { topic: 'a/b/ü', payload: Buffer.from([0, 1, 2, 255]), qos: 1 as const, retain: true, binary: true };
    expect(decodeOutbox(encodeOutbox(m))).toEqual(m);
    const bad = encodeOutbox(m);
    bad[0] = 9;
    expect(decodeOutbox(bad)).toBeUndefined();
    expect(decodeOutbox(new Uint8Array(3))).toBeUndefined();
  });

  test('redaction hides passwords and URL credentials', () => {
    expect(redactUrl('mqtts://user:s3cret@broker:8883')).toBe('mqtts://***@broker:8883');
    expect(redactConfig({ url: 'mqtt://u:p@h', username: 'u', password: 's3cret' })).toEqual({ url: 'mqtt://***@h', username: 'u', password: '***' });
  });
});
