import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradientPng, tinyBundle } from './helpers.js';
import { runCli, writeCliEntry, type CliResult } from '../helpers/cli.js';

// `inspect` on a missing file or a folder: one message with the true reason, as that file's record, in text
// and in --json; no second, bogus "empty image" record and no extra stderr line (issue 15, item 6).

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;
let entry: string;
let bundleDir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-inspect-missing-'));
  entry = await writeCliEntry(dir);
  bundleDir = (await tinyBundle(path.join(dir, 'bundle'))).dir;
  await writeFile(path.join(dir, 'good.png'), await gradientPng(40, 40));
  await mkdir(path.join(dir, 'frames'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<CliResult> {
  return runCli(entry, args);
}

/** stderr without lines that are not about the frames (the scoring-engine note, npm's config warnings). */
const frameLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l && !/^scoring engine|^npm warn/.test(l));

describe('inspect on files that cannot be read', () => {
  it('text: one ERROR line per unreadable path with the true reason, then the good file; exit 1', async () => {
    const missing = path.join(dir, 'nope.png');
    const folder = path.join(dir, 'frames');
    const { code, stdout, stderr } = await cli(['inspect', bundleDir, missing, folder, path.join(dir, 'good.png')]);
    expect(code, stderr).toBe(1);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`ERROR  ${missing}  E_INPUT: cannot read ${missing}: no such file: check the path`);
    expect(lines[1]).toBe(`ERROR  ${folder}  E_INPUT: ${folder} is a folder, not an image: give the image files in it (e.g. ${path.join(folder, '*.png')})`);
    expect(lines[2]).toMatch(/^(ok {4}|DEFECT) .*good\.png {2}score /);
    expect(frameLines(stderr)).toEqual([]);
  }, 60_000);

  it('--json: the same, one record each', async () => {
    const missing = path.join(dir, 'gone.jpg');
    const { code, stdout, stderr } = await cli(['inspect', bundleDir, missing, '--json']);
    expect(code, stderr).toBe(1);
    const records = stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ kind: 'error', frameId: missing, origin: missing, code: 'E_INPUT', message: `cannot read ${missing}: no such file: check the path` });
    expect(frameLines(stderr)).toEqual([]);
  }, 60_000);
});
