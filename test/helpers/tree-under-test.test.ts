import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from './require-tool.js';

/** Every test runs the checkout it lives in: no absolute path of one machine, no reliance on the working directory. */
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : /\.(ts|mjs|js)$/.test(e.name) ? [path.join(dir, e.name)] : []));

it('no test file names this checkout, a home or work directory by absolute path, or runs the CLI from process.cwd()', () => {
  const offenders: string[] = [];
  for (const file of files(path.join(ROOT, 'test')).filter((f) => f !== import.meta.filename)) {
    const src = readFileSync(file, 'utf8');
    const rel = path.relative(ROOT, file);
    if (src.includes(ROOT)) offenders.push(`${rel}: contains ${ROOT}`);
    for (const m of src.matchAll(/['"`](\/(?:work|home|root|Users)\/[^'"`]*)/g)) offenders.push(`${rel}: ${m[1]}`);
    if (/cwd: process\.cwd\(\)/.test(src)) offenders.push(`${rel}: cwd: process.cwd()`);
  }
  expect(offenders).toEqual([]);
});

it('no test skips on its own: a skip for a missing tool goes through needs() (named, and a failure under CI=true)', () => {
  const own = [path.join(ROOT, 'test/helpers/require-tool.ts'), import.meta.filename];
  const offenders = files(path.join(ROOT, 'test'))
    .filter((f) => !own.includes(f) && !f.includes(`${path.sep}fixtures${path.sep}`))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\b(?:describe|it|test)\.(?:skipIf|runIf|skip)\b|\b(?:ctx|context)\.skip\(/g)].map((m) => `${path.relative(ROOT, f)}: ${m[0]}`));
  expect(offenders).toEqual([]);
});
