import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * A private Mosquitto for tests that must stop, kill or reconfigure a broker (the system one on 1883 is left
 * alone). The generated config sets `max_queued_messages 0` and `max_inflight_messages 0`: with Mosquitto's
 * defaults (1000 queued) a QoS 1 burst to a slow subscriber is silently dropped by the broker, which would look
 * like loss in the sink under test. Persistence with a 1 s autosave keeps a persistent subscriber's session
 * across a restart.
 */
export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
export const MOSQUITTO_PASSWD = ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd'].find((p) => existsSync(p));
/** Reason to skip broker tests, or undefined when Mosquitto is installed. */
export const noMosquitto = MOSQUITTO ? undefined : 'mosquitto is not installed (apt-get install mosquitto)';

export interface MosquittoOptions {
  /** Adds a TLS listener with these PEM files; `requireCertificate` demands a client certificate. */
  tls?: { ca: string; cert: string; key: string; requireCertificate?: boolean };
  /** username → password; anonymous access is then refused. */
  users?: Record<string, string>;
  /** Extra config lines. */
  extra?: string[];
}

export interface Mosquitto {
  port: number;
  url: string;
  tlsPort?: number;
  tlsUrl?: string;
  dir: string;
  /** SIGTERM and wait (a clean shutdown saves persistence). */
  stop(): Promise<void>;
  /** SIGKILL and wait (nothing saved since the last autosave). */
  kill(): Promise<void>;
  /** SIGSTOP: the broker hangs with its connections open (acknowledgements stop, nothing is refused). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts it again on the same ports with the same config and persistence. */
  start(): Promise<void>;
  log(): string;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!MOSQUITTO) throw new Error(noMosquitto);
  const dir = mkdtempSync(join(tmpdir(), 'mmaerec-mosquitto-'));
  const port = await freePort();
  const tlsPort = options.tls ? await freePort() : undefined;
  const lines = [
    `user ${userInfo().username}`,
    'per_listener_settings false',
    `allow_anonymous ${options.users ? 'false' : 'true'}`,
    'max_queued_messages 0',
    'max_inflight_messages 0',
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    `log_dest file ${join(dir, 'mosquitto.log')}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    `listener ${port} 127.0.0.1`,
  ];
  if (options.tls && tlsPort) {
    lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`);
    lines.push(`require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`);
  }
  if (options.users) {
    if (!MOSQUITTO_PASSWD) throw new Error('mosquitto_passwd is not installed (Debian package mosquitto)');
    const file = join(dir, 'passwd');
    writeFileSync(file, '');
    chmodSync(file, 0o600);
    for (const [user, password] of Object.entries(options.users)) {
      const r = spawnSync(MOSQUITTO_PASSWD, ['-b', file, user, password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
    }
    lines.push(`password_file ${file}`);
  }
  lines.push(...(options.extra ?? []));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');

  let child: ChildProcess | undefined;
  const exited = (): Promise<void> =>
    new Promise((resolve) => (!child || child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const done = exited();
    child.kill(sig);
    await done;
  };
  const broker: Mosquitto = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    ...(tlsPort ? { tlsPort, tlsUrl: `mqtts://127.0.0.1:${tlsPort}` } : {}),
    dir,
    async start() {
      child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitForPort(port, () => (child!.exitCode !== null ? `mosquitto exited: ${stderr}${broker.log()}` : undefined));
      if (tlsPort) await waitForPort(tlsPort, () => (child!.exitCode !== null ? `mosquitto exited: ${stderr}` : undefined));
    },
    stop: () => signal('SIGTERM'),
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill: () => signal('SIGKILL'),
    log: () => (existsSync(join(dir, 'mosquitto.log')) ? readFileSync(join(dir, 'mosquitto.log'), 'utf8') : ''),
    async dispose() {
      if (child && child.exitCode === null) child.kill('SIGCONT');
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

async function waitForPort(port: number, failed: () => string | undefined, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
