import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { QueryResultRow } from 'pg';
import { freePort } from './mosquitto.js';

/**
 * A private PostgreSQL server for tests: initdb into a temporary folder, `postgres` on a free loopback port
 * with its socket in that folder, trust authentication for the user `plant` (loopback only), stopped and
 * removed by dispose(). The system's own cluster (if any) is left alone.
 *
 * PostgreSQL refuses to run as root; under root (CI here runs as root) the server runs as the `postgres`
 * user that Debian's package creates, or `nobody`, and owns the folder.
 */

/** The folder holding initdb and postgres: Debian's newest /usr/lib/postgresql/<major>/bin, else PATH. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const dir = path.join(base, major, 'bin');
    if (existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'postgres'))) return dir;
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found && existsSync(path.join(path.dirname(found), 'postgres')) ? path.dirname(found) : undefined;
}

/** The account the server runs as: the current one, or under root a system account from /etc/passwd. */
export function serverAccount(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, name: 'current user' };
  const passwd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8').split('\n') : [];
  for (const name of ['postgres', 'nobody']) {
    const fields = passwd.find((l) => l.startsWith(`${name}:`))?.split(':');
    if (fields) return { uid: Number(fields[2]), gid: Number(fields[3]), name };
  }
  return undefined;
}

/** Why no test server can be started here (with the fix), or undefined. */
export function noPostgres(): string | undefined {
  if (!postgresBinDir()) return 'PostgreSQL is not installed (apt-get install postgresql)';
  if (!serverAccount()) return 'running as root and /etc/passwd has neither a postgres nor a nobody account to run PostgreSQL as';
  return undefined;
}

export interface Postgres {
  port: number;
  /** A connection URL for `database` (default: the `postgres` database). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs one query on `database` with a short-lived connection. */
  query<R extends QueryResultRow = QueryResultRow>(database: string, sql: string, params?: unknown[]): Promise<R[]>;
  /** Fast shutdown (SIGINT): open transactions are rolled back, clients see their connections close. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port with the same data. */
  start(): Promise<void>;
  /** stop() and removal of the folder. */
  dispose(): Promise<void>;
  /** What the server wrote to stderr (its log). */
  log(): string;
}

export async function startPostgres(): Promise<Postgres> {
  const why = noPostgres();
  if (why) throw new Error(why);
  const { default: pg } = await import('pg'); // loaded here so that require-tool's probe does not need pg
  const bin = postgresBinDir()!;
  const account = serverAccount()!;
  const dir = mkdtempSync(path.join(tmpdir(), 'mmaerec-postgres-'));
  const data = path.join(dir, 'data');
  mkdirSync(data, { mode: 0o700 });
  const asServer = { uid: account.uid, gid: account.gid };
  if (process.getuid?.() === 0) {
    chownSync(dir, account.uid, account.gid);
    chownSync(data, account.uid, account.gid);
  }
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'plant', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { ...asServer, cwd: dir, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error?.message}`);
  const port = await freePort();
  let stderr = '';
  let child: ChildProcess | undefined;
  const url = (database = 'postgres') => `postgres://plant@127.0.0.1:${port}/${database}`;
  const query = async <R extends QueryResultRow>(database: string, sql: string, params: unknown[] = []): Promise<R[]> => {
    const db = new pg.Client({ connectionString: url(database) });
    await db.connect();
    try {
      return (await db.query<R>(sql, params)).rows;
    } finally {
      await db.end();
    }
  };
  const start = async () => {
    const server = spawn(path.join(bin, 'postgres'), [
      '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=30', '-c', 'shared_buffers=16MB',
    ], { ...asServer, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child = server;
    await waitUntilReady(() => query('postgres', 'SELECT 1'), () => (server.exitCode !== null ? `postgres exited: ${stderr}` : undefined));
  };
  const stop = async () => {
    const server = child;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGINT'); // fast shutdown: rolls back open transactions, closes connections
    await exited;
  };
  await start();
  return {
    port,
    url,
    async createDatabase(name) {
      await query('postgres', `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return url(name);
    },
    query,
    start,
    stop,
    log: () => stderr,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(probe: () => Promise<unknown>, failed: () => string | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    try {
      await probe();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections within ${timeoutMs} ms: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
