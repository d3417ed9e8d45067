import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/model/bundle.js';

// A manifest.json that is not JSON: one line with the reason, never the file's bytes (issue 15, item 7).

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mmaerec-manifest-msg-'));
  await cp(path.join(ROOT, 'models/demo'), path.join(dir, 'b'), { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('manifest.json error messages', () => {
  it('bytes that are not JSON: the reason, none of the bytes', async () => {
    const manifest = path.join(dir, 'b', 'manifest.json');
    await writeFile(manifest, Buffer.from('\u0000\u0001{"evil\u001b[2J\n\u202esecret', 'utf8'));
    await expect(loadBundle(path.join(dir, 'b'))).rejects.toMatchObject({
      code: 'E_BUNDLE',
      message: `${manifest} is not valid JSON (unexpected character "\\u0000"): restore the file from the original bundle`,
    });
    await writeFile(manifest, '{"name": "x",\n  "secret\u0007": tru');
    await expect(loadBundle(path.join(dir, 'b'))).rejects.toMatchObject({
      message: `${manifest} is not valid JSON (bad control character in string literal at character 23): restore the file from the original bundle`,
    });
  });
});
