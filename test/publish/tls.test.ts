import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MqttSink } from '../../src/publish/mqtt-sink.js';
import { noMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { collect } from './collector.js';
import { inspection } from './fixtures/records.js';
import { recordingLogger } from './recording-logger.js';
import { needs, tools } from '../helpers/require-tool.js';

const OPENSSL = ['/usr/bin/openssl', '/usr/local/bin/openssl'].find((p) => existsSync(p));

/** A throwaway CA, a broker certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const run = (...args: string[]) => execFileSync(OPENSSL!, args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=mmaerec test CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, cn, ext] of [['server', '127.0.0.1', ['-extfile', 'server.ext']], ['client', 'station-1', []]] as const) {
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', ...ext);
  }
  const p = (f: string) => join(dir, f);
  return { ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}

needs(noMosquitto, tools.openssl()).describe('MqttSink over TLS (mutual, certificates made by openssl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmaerec-tls-'));
  let certs: ReturnType<typeof makeCertificates>;
  let broker: Mosquitto;
  beforeAll(async () => {
    certs = makeCertificates(dir);
    broker = await startMosquitto({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, requireCertificate: true } });
  });
  afterAll(async () => {
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('with the CA, a client certificate and key: events arrive over the TLS listener', async () => {
    const sub = await collect(broker.url, 'mmaerec/tls/#');
    const sink = await MqttSink.create({ url: broker.tlsUrl!, line: 'tls', station: 's1', camera: 'c1', tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, spool: { kind: 'memory' }, logger: recordingLogger() });
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await sink.publishRecord(inspection(i)))!);
    await sink.drain(10_000);
    await sub.waitFor(() => ids.every((id) => sub.counts.has(id)), 5000, 'all ids');
    expect(broker.log()).toMatch(/New client connected .* \(p5, c1, k30\)/);
    await sink.close();
    await sub.end();
  });

  test('without the CA: a clear TLS E_BROKER error, the events stay spooled', async () => {
    const sink = await MqttSink.create({ url: broker.tlsUrl!, line: 'tls', station: 's2', camera: 'c1', tls: { cert: certs.clientCert, key: certs.clientKey }, spool: { kind: 'memory' }, logger: recordingLogger(), reconnect: { initialMs: 1000, maxMs: 1000, factor: 1 } });
    const error = new Promise<Error>((r) => sink.once('broker-error', r));
    await sink.publishRecord(inspection(1));
    const err = await error;
    expect(err).toMatchObject({ code: 'E_BROKER' });
    expect(err.message).toMatch(new RegExp(`^TLS with the MQTT broker at ${broker.tlsUrl} failed \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\\): check mqtt.tls.ca`));
    expect(sink.status().spooled).toBe(1);
    await sink.close();
  });
});
