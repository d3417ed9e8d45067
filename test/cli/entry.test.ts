import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec cli entry '));
  await symlink(path.join(ROOT, 'src'), path.join(dir, 'src'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('src/cli/main.ts run directly through a symlinked path with a space still runs the CLI', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, 'src', 'cli', 'main.ts'), '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('Usage: mmaerec-edge');
});
