import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { eventJsonSchemas } from '../../src/publish/events.js';

// Through main() as bin/mmaerec-edge.js calls it (src/cli/main.ts as the entry script deadlocks; reported to the lead).
const ENTRY = "const { main } = await import('./src/cli/main.ts'); process.exitCode = await main(process.argv.slice(1));";
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, ...args], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8', timeout: 60_000 });

describe('mmaerec-edge schema', () => {
  test('prints every event schema as JSON, exactly what the SDK exports', () => {
    const run = cli('schema');
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(eventJsonSchemas());
  });

  test('--event picks one; an unknown one is a one-line error', () => {
    const one = cli('schema', '--event', 'error');
    expect(JSON.parse(one.stdout)).toMatchObject({ title: 'mmaerec.error/1' });
    const bad = cli('schema', '--event', 'defect');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('mmaerec-edge: --event "defect" is not an event: use inspection, error, status, model\n');
  });

  test('--out writes one file per schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmaerec-schema-'));
    try {
      const run = cli('schema', '--out', dir);
      expect(run.status, run.stderr).toBe(0);
      const files = run.stdout.trim().split('\n');
      expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['mmaerec.inspection.v1.schema.json', 'mmaerec.error.v1.schema.json', 'mmaerec.status.v1.schema.json', 'mmaerec.model.v1.schema.json']);
      expect(JSON.parse(readFileSync(files[0]!, 'utf8'))).toEqual(eventJsonSchemas()['mmaerec.inspection/1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
