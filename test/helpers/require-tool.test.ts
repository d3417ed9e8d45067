import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, outcome, strict } from './require-tool.js';

describe('needs(): a missing tool skips naming why, and fails under CI=true', () => {
  it('run / skip / fail', () => {
    expect([outcome(undefined, false), outcome(undefined, true), outcome('x is missing', false), outcome('x is missing', true)]).toEqual(['run', 'run', 'skip', 'fail']);
    expect([strict({ CI: 'true' }), strict({ CI: '1' }), strict({}), strict({ CI: 'false' })]).toEqual([true, true, false, false]);
  });

  const vitest = (ci: string | undefined) => {
    const env = { ...process.env };
    delete env.CI;
    if (ci !== undefined) env.CI = ci;
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/helpers/fixtures/vitest.config.ts', '--reporter', 'verbose'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 100_000,
    });
    return { status: r.status, out: r.stdout + r.stderr };
  };

  it('without CI: the run passes and each skipped test names the missing tool', () => {
    const r = vitest(undefined);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('needs the frobnicator (skipped: frobnicator is not installed (apt-get install frobnicator))');
    expect(r.out).toContain('widget suite (skipped: the widget dataset is missing)');
    expect(r.out).toMatch(/1 passed/);
  });

  it('with CI=true: the same tests fail, saying what to install', () => {
    const r = vitest('true');
    expect(r.status, r.out).toBe(1);
    expect(r.out).toContain('frobnicator is not installed (apt-get install frobnicator); CI=true fails instead of skipping');
    expect(r.out).toContain('the widget dataset is missing; CI=true fails instead of skipping');
    expect(r.out).not.toContain('the suite body must not run');
    expect(r.out).toMatch(/2 failed/);
  });
});
