import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSpool } from '../../src/publish/spool/store.js';
import { spoolContract } from './spool-contract.js';

const root = mkdtempSync(join(tmpdir(), 'mmaerec-spool-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

spoolContract('memory', (options = {}) => createSpool({ ...options, kind: 'memory' }));
spoolContract('disk, fsync interval', (options = {}) => createSpool({ ...options, kind: 'disk', dir: join(root, `s${++n}`) }));
spoolContract('disk, fsync always, tiny segments', (options = {}) =>
  createSpool({ ...options, kind: 'disk', dir: join(root, `s${++n}`), fsync: 'always', segmentBytes: 4096 }),
);
