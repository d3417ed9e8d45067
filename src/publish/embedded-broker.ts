import { createServer, type Server, type Socket } from 'node:net';
import type { Aedes } from 'aedes';
import { MmaerecError } from '../errors.js';

/**
 * An in-process MQTT broker (aedes) for demos and hosts without Mosquitto. aedes speaks MQTT 3.1.1 only
 * (it refuses MQTT 5 CONNECTs), so an MqttSink pointed at it needs `protocol: '3.1.1'`. It keeps messages
 * in memory: a restart of this process loses what subscribers had not received — use Mosquitto in production.
 */
export interface EmbeddedBroker {
  /** e.g. mqtt://127.0.0.1:41235 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly aedes: Aedes;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the demo broker is not exposed to the network unless asked. */
  host?: string;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const wanted = options.port ?? 0;
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new RangeError(`Expected a port 0..65535 for port but received ${wanted}`);
  const { Aedes: AedesBroker } = await import('aedes'); // loaded only when a demo asks for a broker
  const aedes = await AedesBroker.createBroker();
  const server: Server = createServer((socket) => aedes.handle(socket));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(wanted, host, () => resolve());
    });
  } catch (err) {
    await new Promise<void>((r) => aedes.close(() => r()));
    throw new MmaerecError('E_BROKER', `cannot start the embedded MQTT broker on ${host}:${wanted} (${(err as NodeJS.ErrnoException).code}): choose another port or stop what uses it`, { cause: err });
  }
  const port = (server.address() as { port: number }).port;
  let closed: Promise<void> | undefined;
  return {
    url: `mqtt://${host}:${port}`,
    host,
    port,
    aedes,
    close() {
      closed ??= (async () => {
        await new Promise<void>((r) => aedes.close(() => r()));
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closed;
    },
  };
}
