// Regenerates docs/configuration.md from the zod schemas: node --import tsx scripts/gen-config-reference.ts
import { writeFileSync } from 'node:fs';
import { configurationReference } from '../src/config/reference-doc.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationReference());
console.log('wrote docs/configuration.md');
