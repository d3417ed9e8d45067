import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { MmaerecError } from '../errors.js';
import { runConfigSchema, type RunConfig, type SourceConfig } from './schema.js';

/** Field-specific fixes; the generic one is derived from the issue. */
const HINTS: Array<[RegExp, string]> = [
  [/^model$/, 'set model to the bundle directory (made by "mmaerec-edge create" or "train")'],
  [/^source\.type$/, 'set source.type to files, ffmpeg or gstreamer'],
  [/^source\.path$/, 'set source.path to a folder or glob pattern such as /data/cam1/*.png'],
  [/^source\.(width|height)$/, 'set source.width and source.height to the frame size the camera delivers'],
  [/^sinks$/, 'list at least one sink, e.g. sinks: [{ type: jsonl, path: results.jsonl }]'],
  [/^sinks\.\d+\.type$/, 'set each sink type to jsonl, stdout or mqtt'],
  [/^roi/, 'give roi as integers x, y >= 0 and width, height > 0 in frame pixels'],
  [/^source\.backoff\.maxMs$/, 'make source.backoff.maxMs at least source.backoff.initialMs (default 250)'],
];

/** Why a bound is what it is, for the fix of a value beyond it. */
const BOUND_REASONS: Array<[RegExp, string]> = [
  [/^backend\.threads$/, 'CPU threads per session'],
  [/Ms$/, 'milliseconds; timers stop at 2^31 − 1 ms, ≈ 24.8 days'],
  [/S$/, 'seconds'],
  [/^(roi\.|source\.(width|height))/, 'frame pixels (the decoder takes at most 16383 per side)'],
];

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

const showValue = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v) : typeof v === 'object' && v !== null ? typeof v : String(v));

/**
 * One zod issue as "path: problem: fix". `root` (the whole config) lets a bound name the value given:
 * `backend.threads: 100000 is above the maximum 256: give at most 256 (CPU threads per session)`.
 */
export function formatIssue(issue: z.core.$ZodIssue, root?: unknown): string {
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  let problem = issue.message;
  let fix: string | undefined = HINTS.find(([re]) => re.test(where))?.[1];
  const value = valueAt(root, issue.path);
  const reason = BOUND_REASONS.find(([re]) => re.test(where))?.[1];
  const zodDefault = /^(Too (big|small)|Invalid|Expected)/.test(issue.message);
  if (issue.code === 'unrecognized_keys') {
    problem = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    fix ??= 'remove it or correct its spelling';
  } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    problem = `missing (expected ${issue.expected})`;
    fix ??= `add ${where}`;
  } else if (issue.code === 'too_big' && issue.origin === 'number' && zodDefault) {
    problem = `${showValue(value)} is above the maximum ${String(issue.maximum)}`;
    fix ??= `give at most ${String(issue.maximum)}${reason ? ` (${reason})` : ''}`;
  } else if (issue.code === 'too_small' && issue.origin === 'number' && zodDefault) {
    const positive = !issue.inclusive && Number(issue.minimum) === 0;
    problem = positive ? `${showValue(value)} is not positive` : `${showValue(value)} is ${issue.inclusive ? 'below the minimum' : 'not above'} ${String(issue.minimum)}`;
    fix ??= `give ${positive ? 'a positive number' : `${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`}${reason ? ` (${reason})` : ''}`;
  } else if (!zodDefault && !fix && /: /.test(issue.message)) {
    // The schema's own message already names the fix (the MQTT sink's schema: "… is above 65535: give …").
    return `${where} ${issue.message}`;
  } else if (issue.code === 'invalid_value' || issue.code === 'invalid_union') {
    fix ??= 'use one of the listed values';
  }
  return `${where}: ${problem}: ${fix ?? 'fix that field (see docs/architecture.md, "Run config")'}`;
}

/**
 * An invalid config: the message is its first problem (one line, as every SDK error), and `problems` holds every
 * problem found, one line each, for `run --check` to list.
 */
export class ConfigProblems extends MmaerecError {
  readonly problems: string[];
  constructor(problems: string[]) {
    const more = problems.length - 1;
    super('E_CONFIG', more > 0 ? `${problems[0]!} (and ${more} more problem${more > 1 ? 's' : ''}: \`mmaerec-edge run --check\` lists them all)` : problems[0]!);
    this.problems = problems;
  }
}

/** Validates a config object; every issue one line naming the field and the fix (ConfigProblems). */
export function parseRunConfig(value: unknown, origin = 'config'): RunConfig {
  const result = runConfigSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigProblems(result.error.issues.map((i) => `${origin}: ${formatIssue(i, value)}`));
}

/**
 * Reads a YAML or JSON run config (by extension; anything else is tried as YAML, a superset of JSON),
 * validates it, and resolves relative paths (model, source, sinks, heatmap dir) against the file's folder.
 */
export async function loadRunConfig(file: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MmaerecError('E_CONFIG', `cannot read config ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the path given to --config`);
  }
  let value: unknown;
  try {
    value = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new MmaerecError('E_CONFIG', `${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'} (${first}): fix the syntax at that position`);
  }
  const config = parseRunConfig(value, file);
  return resolvePaths(config, path.dirname(path.resolve(file)));
}

function resolvePaths(config: RunConfig, base: string): RunConfig {
  const abs = (p: string): string => path.resolve(base, p);
  const capture = (s: SourceConfig): SourceConfig => s.type === 'files'
    ? { ...s, path: Array.isArray(s.path) ? s.path.map(abs) : abs(s.path) }
    : s.type === 'ffmpeg' && !/^[a-z]+:\/\//i.test(s.input) && !s.input.startsWith('/dev/')
      ? { ...s, input: abs(s.input) }
      : s;
  return {
    ...config,
    model: abs(config.model),
    ...(config.source ? { source: capture(config.source) } : {}),
    ...(config.sources ? { sources: config.sources.map((s) => ({ ...s, capture: capture(s.capture) })) } : {}),
    ...(config.swap?.watch ? { swap: { ...config.swap, watch: abs(config.swap.watch) } } : {}),
    sinks: config.sinks.map((s) =>
      s.type === 'jsonl' ? { ...s, path: abs(s.path) } : s.type === 'mqtt' && s.spool.dir ? { ...s, spool: { ...s.spool, dir: abs(s.spool.dir) } } : s,
    ),
    heatmap: config.heatmap.dir ? { ...config.heatmap, dir: abs(config.heatmap.dir) } : config.heatmap,
    logging: config.logging.file ? { ...config.logging, file: abs(config.logging.file) } : config.logging,
  };
}
