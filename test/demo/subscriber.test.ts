import { expect, test } from 'vitest';
import { startDemoSubscriber } from '../../src/demo/subscriber.js';
import { MmaerecError } from '../../src/errors.js';
import { startEmbeddedBroker } from '../../src/publish/embedded-broker.js';

test('events that do not come back in time are a one-line MmaerecError naming the fix', async () => {
  const broker = await startEmbeddedBroker();
  const subscriber = await startDemoSubscriber(broker.url, 'mmaerec/demo/#', 4, () => undefined);
  try {
    const err = await subscriber.waitFor(2, 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MmaerecError);
    expect((err as MmaerecError).code).toBe('E_BROKER');
    expect((err as Error).message).toBe('only 0 of 2 events came back over MQTT within 50 ms: check the broker, or raise --timeout');
  } finally {
    await subscriber.close();
    await broker.close();
  }
});
