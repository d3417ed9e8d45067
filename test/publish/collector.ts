import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { eventSchema, type MmaerecEvent } from '../../src/publish/events.js';

/**
 * A test subscriber: validates every JSON message against the event schemas and counts arrivals per event id,
 * so a test can assert "every id arrived" and "every duplicate is the same id".
 */
export interface Collector {
  client: MqttClient;
  /** event id → how many times it arrived */
  counts: Map<string, number>;
  events: Map<string, MmaerecEvent>;
  /** binary payloads by topic */
  binary: Map<string, Buffer>;
  invalid: string[];
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  end(): Promise<void>;
}

export async function collect(url: string, topic: string, options: IClientOptions = {}): Promise<Collector> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 100, ...options });
  const counts = new Map<string, number>();
  const events = new Map<string, MmaerecEvent>();
  const binary = new Map<string, Buffer>();
  const invalid: string[] = [];
  client.on('message', (t, payload) => {
    if (t.includes('/heatmap/')) {
      binary.set(t, Buffer.from(payload));
      return;
    }
    const parsed = eventSchema.safeParse(JSON.parse(payload.toString()));
    if (!parsed.success) {
      invalid.push(`${t}: ${parsed.error.message}`);
      return;
    }
    const e = parsed.data;
    counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    const seen = events.get(e.id);
    // A duplicate must be the same event, not a different one under a reused id.
    if (seen && JSON.stringify(seen) !== JSON.stringify(e)) invalid.push(`id ${e.id} reused for different content`);
    events.set(e.id, e);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    client,
    counts,
    events,
    binary,
    invalid,
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    end: () => client.endAsync(true),
  };
}

/** Event ids of non-status events. */
export function resultIds(c: Collector): Set<string> {
  return new Set([...c.events.values()].filter((e) => e.schema !== 'mmaerec.status/1').map((e) => e.id));
}
