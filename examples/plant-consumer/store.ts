/**
 * Writes validated events into the plant store (migrations/001_events.sql). Each inspection or error event is
 * one transaction: the event row by INSERT ... ON CONFLICT (id) DO NOTHING, then its regions only when the row
 * is new, so a redelivered event changes nothing and an event is never stored without its regions.
 */
import { DatabaseError, type Pool, type PoolClient } from 'pg';
import type { ErrorEvent, InspectionEvent, StatusEvent } from '../../src/publish/events.js';

/** 'stored': the event is new and committed; 'duplicate': an event with this id was already stored. */
export type StoreOutcome = 'stored' | 'duplicate';

/** Where an event came from: the raw JSON (kept whole in `payload`), its topic, and the consumer storing it. */
export interface Received {
  raw: unknown;
  topic: string;
  storedBy: string;
}

const INSERT_EVENT = `
  INSERT INTO events (id, schema, line, station, camera, frame_id, origin, captured_at, finished_at, verdict, score,
    image_threshold, pixel_threshold, region_count, error_code, error_message, bundle_name, bundle_sha256, backend,
    total_ms, payload, topic, stored_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
  ON CONFLICT (id) DO NOTHING`;

/** All regions of one event in one statement: one array per column, unnested into rows. */
const INSERT_REGIONS = `
  INSERT INTO regions (event_id, ordinal, x, y, width, height, area, max_score, mean_score)
  SELECT $1, r.ordinal - 1, r.x, r.y, r.width, r.height, r.area, r.max_score, r.mean_score
  FROM unnest($2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[])
    WITH ORDINALITY AS r(x, y, width, height, area, max_score, mean_score, ordinal)`;

/** Stores one inspection or error event with its regions, in one transaction. */
export async function storeEvent(pool: Pool, event: InspectionEvent | ErrorEvent, from: Received): Promise<StoreOutcome> {
  return inTransaction(pool, async (db) => {
    const inserted = await db.query(INSERT_EVENT, eventRow(event, from));
    if (inserted.rowCount === 0) return 'duplicate';
    if (event.schema === 'mmaerec.inspection/1' && event.regions.length > 0) {
      const column = (pick: (r: InspectionEvent['regions'][number]) => number) => event.regions.map(pick);
      await db.query(INSERT_REGIONS, [event.id, column((r) => r.x), column((r) => r.y), column((r) => r.width), column((r) => r.height),
        column((r) => r.area), column((r) => r.maxScore), column((r) => r.meanScore)]);
    }
    return 'stored';
  });
}

function eventRow(event: InspectionEvent | ErrorEvent, from: Received): unknown[] {
  const inspection = event.schema === 'mmaerec.inspection/1' ? event : undefined;
  const error = event.schema === 'mmaerec.error/1' ? event : undefined;
  return [
    event.id, event.schema, event.line, event.station, event.camera, event.frameId, event.origin ?? null,
    event.capturedAt, event.finishedAt, inspection?.verdict ?? 'error', inspection?.score ?? null,
    inspection?.imageThreshold ?? null, inspection?.pixelThreshold ?? null, inspection?.regions.length ?? 0,
    error?.code ?? null, error?.message ?? null, event.model?.bundleName ?? null, event.model?.bundleSha256 ?? null,
    event.model?.backend ?? null, inspection?.latency.totalMs ?? null, JSON.stringify(from.raw), from.topic, from.storedBy,
  ];
}

/** Keeps the newest status per camera: an older or replayed status event leaves the row as it is. */
export async function storeStatus(pool: Pool, event: StatusEvent, raw: unknown): Promise<StoreOutcome> {
  const result = await pool.query(
    `INSERT INTO camera_status (line, station, camera, event_id, state, reason, at, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (line, station, camera) DO UPDATE
       SET event_id = EXCLUDED.event_id, state = EXCLUDED.state, reason = EXCLUDED.reason, at = EXCLUDED.at, payload = EXCLUDED.payload
       WHERE camera_status.at < EXCLUDED.at OR (camera_status.at = EXCLUDED.at AND camera_status.event_id < EXCLUDED.event_id)`,
    [event.line, event.station, event.camera, event.id, event.state, event.reason, event.at, JSON.stringify(raw)],
  );
  return result.rowCount === 0 ? 'duplicate' : 'stored';
}

async function inTransaction<T>(pool: Pool, work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  // A checked-out client reports a lost connection (server shutdown, network) as an 'error' event besides
  // failing the query in progress; without a listener that event would end the process.
  const ignore = () => undefined;
  db.on('error', ignore);
  let broken: Error | undefined;
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    broken = err as Error;
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    db.off('error', ignore);
    db.release(broken && classifyFailure(broken) === 'retry' ? broken : undefined); // an error: the pool discards the connection
  }
}

/** What to do after a failed write: retry the same message, reject it (ack and log), or stop the consumer. */
export type FailureKind = 'retry' | 'reject' | 'fatal';

/**
 * Retry when the server is down or restarting, a connection broke, or a deadlock or serialization failure
 * rolled the transaction back; reject when the values themselves are refused (SQLSTATE class 22, e.g. a NUL
 * character that PostgreSQL text cannot hold: a retry would repeat it); stop on anything else, integrity
 * errors included (class 23: with this schema, a missing partition for the event's id) — better a stopped
 * member, visible, than an event acknowledged away. Retried classes: 08 connection, 53 resources, 57 operator
 * intervention (shutdown), 58 system, 40 rollback. Failures without a SQLSTATE are network errors
 * (ECONNREFUSED, "Connection terminated unexpectedly", …).
 */
export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof DatabaseError) {
    const group = (err.code ?? '').slice(0, 2);
    if (['08', '53', '57', '58', '40'].includes(group)) return 'retry';
    return group === '22' ? 'reject' : 'fatal';
  }
  return err instanceof TypeError || err instanceof RangeError ? 'fatal' : 'retry';
}
