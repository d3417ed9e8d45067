/**
 * Validation of incoming messages, once, at the edge of the plant store: JSON, then the SDK's own event schema
 * (src/publish/events.ts). A refusal is one line that names the field and the problem.
 */
import { eventSchema, type MmaerecEvent } from '../../src/publish/events.js';

export type Parsed = { ok: true; event: MmaerecEvent; raw: unknown } | { ok: false; problem: string };

export function parseEvent(payload: Buffer): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, problem: `not JSON (${(err as Error).message}): expected an mmaerec event` };
  }
  const result = eventSchema.safeParse(raw);
  if (result.success) return { ok: true, event: result.data, raw };
  const [first, ...more] = result.error.issues;
  const where = first.path.length ? first.path.join('.') : '(top level)';
  const schema = (raw as { schema?: unknown } | null)?.schema;
  const what = typeof schema === 'string' ? JSON.stringify(schema) : 'event';
  return { ok: false, problem: `${what} invalid at ${where}: ${first.message}${more.length ? ` (+${more.length} more problems)` : ''}` };
}
