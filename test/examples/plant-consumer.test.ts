import { connect, createServer, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect } from 'vitest';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { recordingLogger } from '../publish/recording-logger.js';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { consumerArgs, plantRecord, regionsOf, startConsumer, waitForRows, type ConsumerProcess } from '../helpers/plant.js';
import { startPostgres, type Postgres } from '../helpers/postgres.js';
import { needs, tools } from '../helpers/require-tool.js';

/**
 * examples/plant-consumer against a real Mosquitto (persistence on, unlimited queues: see test/helpers/mosquitto.ts)
 * and a real PostgreSQL, both private to this file on loopback ports.
 */
const { describe, it } = needs(tools.mosquitto(), tools.postgres());

describe('examples/plant-consumer', () => {
  let db: Postgres;
  let broker: Mosquitto;
  beforeAll(async () => {
    [db, broker] = await Promise.all([startPostgres(), startMosquitto()]);
  });
  afterAll(async () => {
    await broker?.dispose();
    await db?.dispose();
  });

  it('three consumers in one share group store every event exactly once across a broker restart and a SIGKILLed member', async () => {
    const database = 'split';
    const url = await db.createDatabase(database);
    const members = ['plant-1', 'plant-2', 'plant-3'].map((id) => startConsumer(consumerArgs(broker.url, url, id)));
    await Promise.all(members.map((m) => m.ready));
    // The station reaches the broker through a gate that the test closes while the broker restarts (below).
    const stationLink = await tcpGate(broker.port);
    const sink = await MqttSink.create({ url: stationLink.url, line: 'l1', station: 's1', camera: 'c1', publish: 'all', spool: { kind: 'memory' }, reconnect: { initialMs: 200, maxMs: 1000 }, logger: recordingLogger() });
    const total = 3000;
    let next = 0;
    const publishUpTo = async (end: number) => {
      for (; next < end; next++) await sink.write(plantRecord(next));
    };

    await publishUpTo(1000);
    expect(await waitForRows(db, database, 300, 60_000)).toBeGreaterThanOrEqual(300);
    await broker.stop(); // SIGTERM: Mosquitto saves sessions and their queued messages (not shared subscriptions)
    const restartedAt = Date.now();
    stationLink.close();
    await publishUpTo(1500); // into the sink's spool while the broker is down
    await broker.start();
    // Mosquitto 2.0 comes back without the shared subscriptions: what a station publishes before a member
    // subscribes again is dropped (PUBACK "no matching subscribers"). The members reconnect within 250 ms; the
    // station's link is let through only once they have, so the test checks the consumer under the order that
    // docs/plant-side.md asks a plant to ensure (stations reconnecting later than the members).
    await until(() => members.every((m) => m.subscribedAt.some((t) => t > restartedAt)), 30_000, 'every member subscribed again after the broker restart');
    stationLink.open();
    await publishUpTo(2000);
    expect(await waitForRows(db, database, 1200, 60_000)).toBeGreaterThanOrEqual(1200);
    const [killed] = members.splice(1, 1);
    await killed.kill(); // SIGKILL mid-stream: whatever it had not acknowledged stays in its session
    const storedBeforeKill = await storedBy(database, 'plant-2');
    await publishUpTo(2500); // a third of these is routed to the dead member's session
    const replacement = startConsumer(consumerArgs(broker.url, url, 'plant-2'));
    members.push(replacement);
    await replacement.ready;
    await publishUpTo(total);
    await sink.drain(60_000);
    expect(await waitForRows(db, database, total, 90_000)).toBe(total);
    await new Promise((r) => setTimeout(r, 500)); // late duplicates, if any, would land now
    const summaries = await Promise.all(members.map((m) => m.stop()));
    await sink.close();
    await stationLink.dispose();

    // Exactly once: one row per published frame, no gaps, no duplicates, nothing else.
    const [counts] = await db.query<{ rows: number; ids: number; frames: number }>(database,
      'SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids, count(DISTINCT frame_id)::int AS frames FROM events');
    expect(counts).toEqual({ rows: total, ids: total, frames: total });
    const frames = await db.query<{ frame_id: string }>(database, 'SELECT frame_id FROM events');
    expect(new Set(frames.map((r) => r.frame_id))).toEqual(new Set(Array.from({ length: total }, (_, n) => `frame-${n}`)));
    await expectRegionsMatch(database, total);

    // The group split the stream; the replacement took over the killed member's session (events published
    // while plant-2 was dead were queued for it and stored by its replacement).
    const byMember = Object.fromEntries((await db.query<{ stored_by: string; n: number }>(database, 'SELECT stored_by, count(*)::int AS n FROM events GROUP BY stored_by')).map((r) => [r.stored_by, r.n]));
    expect(Object.keys(byMember).sort()).toEqual(['plant-1', 'plant-2', 'plant-3']);
    for (const n of Object.values(byMember)) expect(n).toBeGreaterThan(total / 10);
    const [{ n: whileDead }] = await db.query<{ n: number }>(database,
      "SELECT count(*)::int AS n FROM events WHERE stored_by = 'plant-2' AND substring(frame_id from 7)::int BETWEEN 2000 AND 2499");
    expect(whileDead).toBeGreaterThan(100);
    expect(summaries.find((s) => s.clientId === 'plant-2')!.stored).toBe(byMember['plant-2'] - storedBeforeKill);
    for (const s of summaries) expect(s.stored).toBe(s.clientId === 'plant-2' ? byMember['plant-2'] - storedBeforeKill : byMember[s.clientId]);
    for (const m of members.slice(0, 2)) expect(m.stderr()).toMatch(/resumed session on /); // the broker restart happened under them
    process.stdout.write(`plant-consumer: ${JSON.stringify({ byMember, whileDead, duplicates: summaries.map((s) => s.duplicates) })}\n`);
  }, 240_000);

  it('stores a replayed event once, rejects malformed messages with one line each, keeps status and heatmaps out of events', async () => {
    const database = 'replay';
    const url = await db.createDatabase(database);
    const member = startConsumer(consumerArgs(broker.url, url, 'replay-1', '--group', 'replay', '--topic', 'mmaerec/l2/#'));
    await member.ready;
    const sink = await MqttSink.create({ url: broker.url, line: 'l2', station: 's1', camera: 'c1', publish: 'all', spool: { kind: 'memory' }, heartbeatMs: 100, logger: recordingLogger() });
    const copies: Buffer[] = [];
    const spy = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    spy.on('message', (topic, payload) => topic.endsWith('/defect') && copies.push(Buffer.from(payload)));
    await spy.subscribeAsync('mmaerec/l2/s1/defect', { qos: 1 });
    for (let n = 1; n <= 5; n++) await sink.write(plantRecord(n));
    await sink.drain(10_000);
    expect(await waitForRows(db, database, 5, 20_000)).toBe(5);

    const raw = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    await raw.publishAsync('mmaerec/l2/s1/defect', copies[0], { qos: 1 }); // a redelivered event: same id
    await raw.publishAsync('mmaerec/l2/s1/defect', '{"schema":"mmaerec.inspection/1","id":"nope"}', { qos: 1 });
    await raw.publishAsync('mmaerec/l2/s1/defect', 'not json', { qos: 1 });
    await raw.publishAsync('mmaerec/l2/s1/error', '{"schema":"mmaerec.error/2"}', { qos: 1 }); // a version this store does not know
    const nul = { ...JSON.parse(copies[2].toString()), id: '01KAAAAAAAAAAAAAAAAAAAAAAB', frameId: 'frame-\u0000-4' }; // valid JSON and schema; PostgreSQL text refuses NUL
    await raw.publishAsync('mmaerec/l2/s1/defect', JSON.stringify(nul), { qos: 1 });
    const future = { ...JSON.parse(copies[1].toString()), id: '01KAAAAAAAAAAAAAAAAAAAAAAA', firmware: 'v9' }; // an unknown field: kept in payload
    await raw.publishAsync('mmaerec/l2/s1/defect', JSON.stringify(future), { qos: 1 });
    await raw.publishAsync('mmaerec/l2/s1/heatmap/x', Buffer.from([0x89, 0x50, 0x4e, 0x47]), { qos: 1 });
    await raw.endAsync();
    expect(await waitForRows(db, database, 6, 20_000)).toBe(6);
    await new Promise((r) => setTimeout(r, 500));
    const summary = await member.stop(); // before the sink's "offline (shutdown)" status could reach it
    await sink.close();
    await spy.endAsync();

    expect(summary).toMatchObject({ stored: 6, duplicates: 1, rejected: 4, ignored: 1 });
    expect(summary.statuses).toBeGreaterThanOrEqual(1);
    const rejected = member.stderr().split('\n').filter((l) => l.includes('rejected'));
    expect(rejected).toEqual([
      'plant-consumer[replay-1]: rejected message on mmaerec/l2/s1/defect: "mmaerec.inspection/1" invalid at id: a ULID (26 Crockford base-32 characters) (+13 more problems)',
      expect.stringMatching(/^plant-consumer\[replay-1\]: rejected message on mmaerec\/l2\/s1\/defect: not JSON \(.+\): expected an mmaerec event$/),
      `plant-consumer[replay-1]: rejected message on mmaerec/l2/s1/error: "mmaerec.error/2" invalid at schema: Invalid discriminator value. Expected 'mmaerec.inspection/1' | 'mmaerec.error/1' | 'mmaerec.status/1' | 'mmaerec.model/1'`,
      expect.stringMatching(/^plant-consumer\[replay-1\]: rejected message on mmaerec\/l2\/s1\/defect: the database refused it \(.*\)$/),
    ]);
    const [kept] = await db.query<{ firmware: string }>(database, "SELECT payload->>'firmware' AS firmware FROM events WHERE id = $1", [future.id]);
    expect(kept.firmware).toBe('v9');
    const [status] = await db.query<{ state: string }>(database, "SELECT state FROM camera_status WHERE line = 'l2' AND station = 's1' AND camera = 'c1'");
    expect(status.state).toBe('online');
    await expectRegionsMatch(database, 6, [1, 2, 3, 4, 5, 2]);
  }, 120_000);

  it('a database outage mid-stream: the member retries the message in hand and stores everything once', async () => {
    const database = 'outage';
    const url = await db.createDatabase(database);
    const member = startConsumer(consumerArgs(broker.url, url, 'outage-1', '--group', 'outage', '--topic', 'mmaerec/l3/#'));
    await member.ready;
    const sink = await MqttSink.create({ url: broker.url, line: 'l3', station: 's1', camera: 'c1', publish: 'all', spool: { kind: 'memory' }, heartbeatMs: 0, logger: recordingLogger() });
    const total = 300;
    for (let n = 0; n < total; n++) await sink.write(plantRecord(n));
    expect(await waitForRows(db, database, 50, 20_000)).toBeGreaterThanOrEqual(50);
    await db.stop();
    await new Promise((r) => setTimeout(r, 1500)); // the member now fails, backs off and retries
    await db.start();
    await sink.drain(20_000);
    expect(await waitForRows(db, database, total, 60_000)).toBe(total);
    const summary = await member.stop();
    await sink.close();

    const [counts] = await db.query<{ rows: number; frames: number }>(database, 'SELECT count(*)::int AS rows, count(DISTINCT frame_id)::int AS frames FROM events');
    expect(counts).toEqual({ rows: total, frames: total });
    expect(summary.stored).toBe(total);
    expect(member.stderr()).toMatch(/: database write failed \(.+\): retrying until it succeeds\n/);
    expect(member.stderr()).toMatch(/: database reachable again\n/);
    await expectRegionsMatch(database, total);
  }, 120_000);

  it('bad flags and an unreachable database are one-line errors', async () => {
    const once = async (args: string[]) => {
      const c = startConsumer(args);
      const { code } = await c.exited;
      return { code, stderr: c.stderr() };
    };
    expect(await once([])).toEqual({ code: 1, stderr: 'plant-consumer: --broker is missing: give the broker URL, e.g. --broker mqtt://127.0.0.1:1883\n' });
    expect(await once(['--broker', broker.url, '--database', db.url(), '--client-id', 'x', '--group', 'a/b'])).toEqual({ code: 1, stderr: 'plant-consumer[x]: --group "a/b" is invalid: a share name may not contain "/", "+" or "#"\n' });
    const down = await once(['--broker', broker.url, '--database', 'postgres://plant:secret@127.0.0.1:1/plant', '--client-id', 'x']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^plant-consumer\[x\]: database postgres:\/\/plant:\*\*\*@127\.0\.0\.1:1\/plant not usable \(.*ECONNREFUSED.*\): check --database and that the server runs\n$/);
  }, 60_000);

  async function storedBy(database: string, member: string): Promise<number> {
    const [{ n }] = await db.query<{ n: number }>(database, 'SELECT count(*)::int AS n FROM events WHERE stored_by = $1', [member]);
    return n;
  }

  /** Every stored event has exactly the regions of its record, in order, and region_count agrees. */
  async function expectRegionsMatch(database: string, events: number, numbers?: number[]): Promise<void> {
    const rows = await db.query<{ frame_id: string; region_count: number; regions: { ordinal: number; x: number; y: number; width: number; area: number; max_score: number }[] | null }>(database, `
      SELECT e.frame_id, e.region_count,
        json_agg(json_build_object('ordinal', r.ordinal, 'x', r.x, 'y', r.y, 'width', r.width, 'area', r.area, 'max_score', r.max_score) ORDER BY r.ordinal)
          FILTER (WHERE r.event_id IS NOT NULL) AS regions
      FROM events e LEFT JOIN regions r ON r.event_id = e.id GROUP BY e.id`);
    expect(rows.length).toBe(events);
    const expectedTotal = (numbers ?? Array.from({ length: events }, (_, n) => n)).reduce((sum, n) => sum + expectedRegions(n).length, 0);
    expect(rows.reduce((sum, r) => sum + (r.regions?.length ?? 0), 0)).toBe(expectedTotal);
    for (const row of rows) {
      const n = Number(row.frame_id.slice('frame-'.length));
      const want = expectedRegions(n).map((r, ordinal) => ({ ordinal, x: r.x, y: r.y, width: r.width, area: r.area, max_score: r.maxScore }));
      expect(row.regions ?? [], row.frame_id).toEqual(want);
      expect(row.region_count, row.frame_id).toBe(want.length);
    }
  }
});

/** Polls `ok` every 50 ms; throws naming `what` after `timeoutMs`. */
async function until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP pass-through to a loopback port that can refuse (and cut) connections: one client's network link. */
async function tcpGate(targetPort: number): Promise<{ url: string; open(): void; close(): void; dispose(): Promise<void> }> {
  let passing = true;
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    if (!passing) return void down.destroy();
    const up = connect(targetPort, '127.0.0.1');
    const cut = () => {
      for (const s of [down, up]) {
        s.destroy();
        sockets.delete(s);
      }
    };
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', cut).on('close', cut);
    }
    down.pipe(up).pipe(down);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () => {
    passing = false;
    for (const s of sockets) s.destroy();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    open: () => void (passing = true),
    close,
    dispose: () => new Promise<void>((resolve) => {
      close();
      server.close(() => resolve());
    }),
  };
}

/** The regions record n carries (error records carry none). */
function expectedRegions(n: number) {
  const record = plantRecord(n);
  return record.kind === 'inspection' ? regionsOf(n) : [];
}
