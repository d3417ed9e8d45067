import type { MqttClient } from 'mqtt';
import { MmaerecError } from '../errors.js';
import { eventSchema, type InspectionEvent, type ErrorEvent } from '../publish/events.js';

/** What the demo's plant-side subscriber saw. */
export interface DemoSubscriber {
  /** Distinct inspection and error events, by event id (duplicates from at-least-once delivery are dropped). */
  readonly events: Map<string, InspectionEvent | ErrorEvent>;
  readonly invalid: number;
  readonly heatmaps: number;
  /** Resolves once `count` distinct inspection/error events arrived, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Subscribes like a plant system would (MES, dashboard): validates every event against the published schema,
 * deduplicates by event id and reports each inspection as it arrives.
 */
export async function startDemoSubscriber(
  url: string,
  topic: string,
  protocolVersion: 4 | 5,
  onEvent: (event: InspectionEvent | ErrorEvent, topic: string) => void,
): Promise<DemoSubscriber> {
  const { connectAsync } = await import('mqtt');
  const client: MqttClient = await connectAsync(url, { protocolVersion, clientId: `mmaerec-demo-subscriber-${process.pid}`, reconnectPeriod: 500 });
  const events = new Map<string, InspectionEvent | ErrorEvent>();
  let invalid = 0;
  let heatmaps = 0;
  let waiter: { count: number; resolve: () => void } | undefined;

  client.on('message', (t, payload) => {
    if (t.includes('/heatmap/')) {
      heatmaps += 1;
      return;
    }
    let parsed;
    try {
      parsed = eventSchema.safeParse(JSON.parse(payload.toString('utf8')));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      invalid += 1;
      return;
    }
    const event = parsed.data;
    if (event.schema === 'mmaerec.status/1' || event.schema === 'mmaerec.model/1' || events.has(event.id)) return;
    events.set(event.id, event);
    onEvent(event, t);
    if (waiter && events.size >= waiter.count) waiter.resolve();
  });
  try {
    await client.subscribeAsync(topic, { qos: 1 });
  } catch (err) {
    await client.endAsync(true); // a client left open keeps reconnecting and the process never exits
    throw new MmaerecError('E_BROKER', `cannot subscribe to ${topic} on ${url} (${(err as Error).message}): check that the broker allows this client to subscribe`, { cause: err });
  }

  return {
    events,
    get invalid() {
      return invalid;
    },
    get heatmaps() {
      return heatmaps;
    },
    waitFor(count, timeoutMs) {
      if (events.size >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new MmaerecError('E_BROKER', `only ${events.size} of ${count} events came back over MQTT within ${timeoutMs} ms: check the broker, or raise --timeout`)), timeoutMs);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    async close() {
      await client.endAsync();
    },
  };
}
