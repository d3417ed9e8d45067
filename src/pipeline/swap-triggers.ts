import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MANIFEST_FILE } from '../model/bundle.js';
import type { ModelEventBody } from '../publish/events.js';
import type { SwapRequest } from './model-switch.js';

/**
 * Watches a folder for new bundles: every `pollMs`, each sub-folder holding a manifest.json (written last by
 * writeBundle and `train`, so a bundle still being copied has none) that was not there, or has changed, since
 * the last scan is proposed once. Folders present at start are taken as known: the config's `model` is what
 * serves at start. Polling, not fs.watch: it sees folders moved in and works the same on every file system.
 */
export function watchBundles(dir: string, pollMs: number, propose: (request: SwapRequest) => unknown): { stop(): void; scanned: Promise<void> } {
  const known = new Map<string, number>();
  let stopped = false;
  const scan = async (first: boolean): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const folder = path.join(dir, e.name);
      const mtime = (await stat(path.join(folder, MANIFEST_FILE)).catch(() => undefined))?.mtimeMs;
      if (mtime === undefined || known.get(folder) === mtime) continue;
      known.set(folder, mtime);
      if (!first && !stopped) propose({ path: folder, trigger: 'watch' });
    }
  };
  const scanned = scan(true);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void scan(false).finally(() => (busy = false));
  }, pollMs);
  timer.unref();
  return { stop: () => { stopped = true; clearInterval(timer); }, scanned };
}

const commandSchema = z.strictObject({
  path: z.string().min(1).refine((p) => path.isAbsolute(p), 'is not an absolute path: name the bundle folder on the device, e.g. /opt/models/v2'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'is not a sha256 (64 hex digits): give the sha256 of the bundle\'s manifest.json'),
});

/**
 * A swap command from the MQTT command topic, `{"path": "/abs/bundle", "sha256": "<manifest.json sha256>"}`,
 * as a request; or, for a malformed one, the refusal to announce (one line naming the problem and the fix).
 */
export function parseSwapCommand(payload: Buffer): { request: SwapRequest } | { refused: ModelEventBody } {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return refused('', 'the swap command is not JSON: send {"path": "/abs/bundle", "sha256": "<sha256 of its manifest.json>"}');
  }
  const parsed = commandSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'the command';
    const text = issue.code === 'unrecognized_keys' ? `has unknown key "${issue.keys[0]}": send only path and sha256` : issue.code === 'invalid_type' ? 'is missing or not a string' : issue.message;
    return refused(typeof (value as { path?: unknown })?.path === 'string' ? (value as { path: string }).path : '', `swap command: ${where} ${text}`);
  }
  return { request: { path: parsed.data.path, sha256: parsed.data.sha256, trigger: 'command' } };
}

function refused(candidatePath: string, reason: string): { refused: ModelEventBody } {
  return { refused: { at: new Date().toISOString(), outcome: 'refused', trigger: 'command', candidate: { path: candidatePath }, reason } };
}
