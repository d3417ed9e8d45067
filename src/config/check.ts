import { closeSync, openSync, rmdirSync, unlinkSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { compileGlob, listGlob } from '../capture/glob.js';
import { camerasOf, type CameraPlan } from './cameras.js';
import { executableRuns } from '../capture/process-source.js';
import { MmaerecError, isMmaerecError } from '../errors.js';
import { loadBundle } from '../model/bundle.js';
import { requireNativeScoring, scoringEngine } from '../native.js';
import { openLogFile } from '../observe/logger.js';
import { pageToken } from '../observe/station-page/auth.js';
import { loadTls, parseMqttConfig } from '../publish/mqtt-config.js';
import { resolveTopics } from '../publish/topics.js';
import { makeDirs } from '../util/make-dirs.js';
import type { RunConfig } from './schema.js';
import { formatBox } from '../util/format.js';

/**
 * `mmaerec-edge run --check`: everything about a run config that can be tried without a camera or a broker
 * (issue 15, item 9). The schema is checked when the config is loaded; this then loads and verifies the bundle
 * and creates its back end, checks that the native scoring core is there when required, opens the log file,
 * the JSON-lines files, the heatmap and spool folders (creating what is missing and removing again what it
 * created: nothing is left behind), reads the TLS files, resolves `passwordEnv`, checks the topics, binds the
 * metrics port for a moment and looks for the capture program or the frame files.
 */

/** At most this many inference threads (threads × sessions) per CPU of the machine. */
export const THREADS_PER_CPU = 4;

/** The most inference threads (threads × sessions) a run may ask for on this machine. */
export function maxThreadsHere(cpus = availableParallelism()): number {
  return THREADS_PER_CPU * cpus;
}

/**
 * What `run` refuses before it starts anything (also part of `--check`): more inference threads than the
 * machine can mean, and a missing native scoring core when `backend.requireNativeScoring` is on.
 */
export function startProblems(config: RunConfig, cpus = availableParallelism()): MmaerecError[] {
  const problems: MmaerecError[] = [];
  const { threads, sessions } = config.backend;
  if (threads !== undefined && threads * sessions > maxThreadsHere(cpus)) {
    const most = Math.max(1, Math.floor(maxThreadsHere(cpus) / sessions));
    problems.push(new MmaerecError('E_CONFIG',
      `backend.threads ${threads} × backend.sessions ${sessions} = ${threads * sessions} inference threads, more than ${THREADS_PER_CPU} per CPU on this machine (${cpus} CPUs): give backend.threads at most ${most}, or leave it out for the runtime's choice`));
  }
  if (config.backend.requireNativeScoring) {
    try {
      requireNativeScoring('backend.requireNativeScoring');
    } catch (err) {
      problems.push(err as MmaerecError);
    }
  }
  return problems;
}

export interface CheckReport {
  /** One line per check that passed ("bundle   demo (sha256 …) verified"). */
  passed: string[];
  /** One error per check that failed, each one line naming the problem and the fix. */
  problems: MmaerecError[];
}

export interface CheckOptions {
  /** Create the inference back end (default true); false checks the bundle files only. */
  backend?: boolean;
  /** CPUs of the machine (default os.availableParallelism()). */
  cpus?: number;
}

function oneLine(err: unknown, code: MmaerecError['code'], fix: string): MmaerecError {
  if (isMmaerecError(err)) return err;
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return new MmaerecError(code, `${message}: ${fix}`);
}

/** Removes what a check created, deepest first; says what could not be removed. */
function removeCreated(file: string | undefined, dirs: string[], passed: string[]): void {
  const left: string[] = [];
  try {
    if (file) unlinkSync(file);
  } catch {
    left.push(file!);
  }
  for (const d of dirs) {
    try {
      rmdirSync(d);
    } catch {
      left.push(d);
    }
  }
  if (left.length) passed.push(`note     left behind by the check (remove by hand): ${left.join(', ')}`);
}

function errnoWords(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EEXIST' || e.code === 'ENOTDIR') return `${e.code}: a part of the path is a file, not a folder`;
  if (e.code === 'EACCES' || e.code === 'EPERM') return `${e.code}: permission denied`;
  if (e.code === 'EISDIR') return 'EISDIR: it is a folder';
  return e.code ?? String(e.message).split('\n')[0]!;
}

/** A folder the run will write into: created if missing, a probe file written and removed, then what was created removed. */
function checkWritableDir(field: string, dir: string, what: string, passed: string[]): MmaerecError | undefined {
  let created: string[] = [];
  const probe = path.join(dir, `.mmaerec-check-${process.pid}`);
  try {
    created = makeDirs(dir);
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    removeCreated(undefined, created, passed);
    return new MmaerecError('E_CONFIG', `${field} "${dir}" is not a writable folder (${errnoWords(err)}): give a folder this user may create and write (${what})`);
  }
  removeCreated(probe, created, passed);
  passed.push(`folder   ${field} ${dir} writable${created.length ? ' (created for the check, removed again)' : ''}`);
  return undefined;
}

/** A file the run will append to: opened (created if missing, then removed again with any folders made for it). */
function checkAppendableFile(field: string, file: string, fix: string, passed: string[]): MmaerecError | undefined {
  try {
    const { fd, createdDirs, createdFile } = openLogFile(file, field, fix);
    closeSync(fd);
    removeCreated(createdFile ? file : undefined, createdDirs, passed);
    passed.push(`file     ${field} ${file} writable${createdFile ? ' (created for the check, removed again)' : ' (appending to the existing file)'}`);
    return undefined;
  } catch (err) {
    return oneLine(err, 'E_CONFIG', `give a writable file path for ${field}`);
  }
}

function checkPort(host: string, port: number, field = 'metrics.port', example = 9464): Promise<MmaerecError | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'EADDRINUSE: another process listens there' : err.code === 'EACCES' ? 'EACCES: ports below 1024 need privileges' : (err.code ?? err.message);
      resolve(new MmaerecError('E_CONFIG', `${field} ${port} on ${host} cannot be bound (${why}): give a free port, e.g. ${example}, or 0 for any`));
    });
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}

async function checkSource(camera: CameraPlan, passed: string[]): Promise<MmaerecError | undefined> {
  const { capture: s, field, roi } = camera;
  if (s.type === 'files') {
    let count = 0;
    for (const p of Array.isArray(s.path) ? s.path : [s.path]) {
      const isDir = (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
      const glob = compileGlob(isDir ? path.join(p, '*') : p);
      if (!((await stat(glob.base).catch(() => undefined))?.isDirectory() ?? false)) {
        if (s.watch) continue;
        return new MmaerecError('E_CONFIG', `${field}.path "${p}": the folder ${glob.base} does not exist: give an existing folder or glob pattern`);
      }
      count += (await listGlob(glob)).length;
    }
    if (count === 0 && !s.watch) {
      return new MmaerecError('E_CONFIG', `${field}.path matches no file now: put frames there, fix the pattern, or set ${field}.watch: true to wait for files`);
    }
    passed.push(`${field === 'source' ? 'source  ' : `${field} `} files: ${count} file(s) match now${s.watch ? ' (watching for more)' : ''}`);
    return undefined;
  }
  if (roi && (roi.x + roi.width > s.width || roi.y + roi.height > s.height)) {
    const r = roi;
    const roiField = field === 'source' ? 'roi' : field.replace('.capture', '.roi');
    return new MmaerecError('E_CONFIG', `${roiField} ${formatBox(r)} does not fit the ${s.width}×${s.height} frames of ${field}.width/height: make x + width ≤ ${s.width} and y + height ≤ ${s.height}`);
  }
  const [exe, flag, setting] = s.type === 'ffmpeg' ? [s.ffmpegPath ?? 'ffmpeg', '-version', `${field}.ffmpegPath`] : [s.gstLaunchPath ?? 'gst-launch-1.0', '--version', `${field}.gstLaunchPath`];
  if (!executableRuns(exe, flag)) {
    return new MmaerecError('E_UNSUPPORTED', `${exe} is not installed or not on PATH: install ${s.type === 'ffmpeg' ? 'ffmpeg (apt install ffmpeg)' : 'GStreamer (apt install gstreamer1.0-tools)'} or set ${setting}`);
  }
  passed.push(`${field === 'source' ? 'source  ' : `${field} `} ${s.type}: ${exe} runs (the camera itself is not tried)`);
  return undefined;
}

/** Tries everything `run` will need that needs no camera and no broker; see the file comment. */
export async function checkRunConfig(config: RunConfig, options: CheckOptions = {}): Promise<CheckReport> {
  const passed: string[] = [];
  const problems: MmaerecError[] = [];
  const add = (p: MmaerecError | undefined): void => void (p && problems.push(p));

  const start = startProblems(config, options.cpus);
  problems.push(...start);
  if (!start.some((p) => p.code === 'E_NATIVE')) {
    passed.push(`scoring  ${scoringEngine()} engine${scoringEngine() === 'typescript' ? ' (the TypeScript fallback: ≈ 5–50× slower; backend.requireNativeScoring is false)' : ''}`);
  }

  try {
    const bundle = await loadBundle(config.model);
    passed.push(`bundle   ${bundle.manifest.name} (manifest sha256 ${bundle.sha256.slice(0, 12)}…) verified: every file matches its sha256`);
    if (options.backend !== false && !start.some((p) => p.code === 'E_CONFIG')) {
      const { Inspector } = await import('../pipeline/inspector.js');
      const inspector = await Inspector.create(bundle, {
        backend: config.backend.name, threads: config.backend.threads, sessions: config.backend.sessions, device: config.backend.device, roi: config.roi,
      });
      passed.push(`backend  ${inspector.backend.name} created for ${bundle.manifest.input.width}×${bundle.manifest.input.height} input${inspector.skippedBackends.length ? ` (skipped: ${inspector.skippedBackends.map((s) => s.name).join(', ')})` : ''}`);
      await inspector.close();
    }
  } catch (err) {
    problems.push(oneLine(err, 'E_INFER', 'fix the bundle or the back end settings'));
  }

  for (const camera of camerasOf(config)) add(await checkSource(camera, passed).catch((err: unknown) => oneLine(err, 'E_CONFIG', `fix ${camera.field}`)));
  if (config.logging.file) add(checkAppendableFile('logging.file', config.logging.file, 'give a writable file path, or remove logging.file to log to stderr', passed));
  if (config.heatmap.dir) add(checkWritableDir('heatmap.dir', config.heatmap.dir, 'heatmap images are saved there', passed));

  for (const [i, sink] of config.sinks.entries()) {
    const field = `sinks.${i}`;
    if (sink.type === 'jsonl') add(checkAppendableFile(`${field}.path`, sink.path, 'give a file path this user may create and append to', passed));
    if (sink.type !== 'mqtt') continue;
    // Each part on its own, so that one run of --check names every problem of the sink.
    const before = problems.length;
    const attempt = (f: () => void): void => {
      try {
        f();
      } catch (err) {
        problems.push(oneLine(err, 'E_CONFIG', `fix ${field}`));
      }
    };
    const { type: _type, ...options } = sink;
    attempt(() => parseMqttConfig(options, field)); // URL and TLS, passwordEnv set, username, spool.dir present, backoff
    attempt(() => resolveTopics({ line: sink.line, station: sink.station, camera: sink.camera }, sink.topics, field));
    attempt(() => loadTls(sink.tls, field));
    if (sink.spool.kind === 'disk' && sink.spool.dir) add(checkWritableDir(`${field}.spool.dir`, sink.spool.dir, 'unacknowledged events are kept there', passed));
    if (problems.length === before) {
      passed.push(`mqtt     ${field}: topics, ${sink.tls ? 'TLS files, ' : ''}${sink.passwordEnv ? `password from ${sink.passwordEnv}, ` : ''}${sink.spool.kind} spool ok (the broker itself is not tried)`);
    }
  }

  if (config.metrics.port !== undefined && config.metrics.port !== 0) {
    const p = await checkPort(config.metrics.host, config.metrics.port);
    add(p);
    if (!p) passed.push(`metrics  ${config.metrics.host}:${config.metrics.port} free`);
  }
  if (config.page) {
    const page = config.page;
    let tokenProblem: MmaerecError | undefined;
    try {
      pageToken(page);
    } catch (err) {
      tokenProblem = oneLine(err, 'E_CONFIG', 'fix page.tokenEnv');
    }
    add(tokenProblem);
    const p = page.port !== 0 ? await checkPort(page.host, page.port, 'page.port', 8080) : undefined;
    add(p);
    if (!p && !tokenProblem) passed.push(`page     ${page.host}:${page.port}${page.port ? ' free' : ' (any free port)'}${page.tokenEnv ? `, token from ${page.tokenEnv}` : ''}`);
  }
  return { passed, problems };
}
