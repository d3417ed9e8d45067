/**
 * Applies the SQL files in migrations/ (001_….sql, 002_….sql, …) that the database has not seen yet, in name
 * order, each recorded in plant_schema_migrations. Several consumers start at once in a plant: the whole run
 * holds a transaction-scoped advisory lock, so exactly one of them migrates and the others wait, then find
 * nothing left to do. PostgreSQL DDL is transactional: a failing file leaves the database as it was.
 * (Hand-written rather than a migration tool: a dozen lines, and no second dependency for an example.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';

export const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');
/** Any fixed 64-bit key: it names "the plant store's schema" among advisory locks. */
const MIGRATION_LOCK = 0x6d6d6165726563n; // "mmaerec"

/** Applies pending migrations; returns the names of those applied by this call. */
export async function migrate(pool: Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query('CREATE TABLE IF NOT EXISTS plant_schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM plant_schema_migrations')).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const file of files.filter((f) => !done.has(f))) {
      try {
        await client.query(readFileSync(path.join(dir, file), 'utf8'));
      } catch (err) {
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      await client.query('INSERT INTO plant_schema_migrations (name) VALUES ($1)', [file]);
      applied.push(file);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
