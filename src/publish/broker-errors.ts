import { MmaerecError } from '../errors.js';

/**
 * Turns what MQTT.js reports (socket errors, TLS errors, refused CONNACKs, negative PUBACKs) into one-line
 * E_BROKER errors that name the problem, the setting to check, and that nothing was lost.
 */
const KEPT = 'events stay spooled and are sent once it succeeds';

export function connectError(err: Error & { code?: string | number }, where: string, protocol: '5' | '3.1.1'): MmaerecError {
  const code = err.code;
  let message: string;
  if (code === 4 || code === 134) {
    message = `the MQTT broker at ${where} rejected the username or password (CONNACK ${code}): check mqtt.username and mqtt.password; ${KEPT}`;
  } else if (code === 5 || code === 135) {
    // Mosquitto answers a wrong password with "not authorized" (5 / 135), not "bad username or password".
    message = `the MQTT broker at ${where} refused the credentials (CONNACK ${code} Not authorized): check mqtt.username and mqtt.password, and the broker's access rules; ${KEPT}`;
  } else if (code === 1 || code === 132) {
    message = protocol === '5'
      ? `the MQTT broker at ${where} does not speak MQTT 5 (CONNACK ${code}): set mqtt.protocol to "3.1.1" (aedes and older brokers); ${KEPT}`
      : `the MQTT broker at ${where} refused MQTT 3.1.1 (CONNACK ${code}): set mqtt.protocol to "5"; ${KEPT}`;
  } else if (code === 2 || code === 133) {
    message = `the MQTT broker at ${where} rejected the client id (CONNACK ${code}): set mqtt.clientId to a shorter id of letters and digits; ${KEPT}`;
  } else if (typeof code === 'number') {
    message = `the MQTT broker at ${where} refused the connection (CONNACK ${code} ${err.message.replace(/^Connection refused: /, '')}): check the broker log; ${KEPT}`;
  } else if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') {
    message = `cannot reach the MQTT broker at ${where} (${code}): check that the broker runs and mqtt.url; ${KEPT}`;
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    message = `cannot resolve the MQTT broker host of ${where} (${code}): check the host name in mqtt.url; ${KEPT}`;
  } else if (isTlsError(err)) {
    message = `TLS with the MQTT broker at ${where} failed (${code ?? err.message}): check mqtt.tls.ca (the CA that signed the broker certificate), mqtt.tls.cert/key, and that the certificate names the host (or set mqtt.tls.servername); ${KEPT}`;
  } else if (/connack timeout/i.test(err.message)) {
    message = `the MQTT broker at ${where} did not answer CONNECT in time: check that mqtt.url points at an MQTT listener (not TLS on a plain port or the reverse); ${KEPT}`;
  } else {
    message = `MQTT connection to ${where} failed (${code ?? err.message}): check mqtt.url and the broker log; ${KEPT}`;
  }
  return new MmaerecError('E_BROKER', message, { cause: err });
}

export function closedWhilePublishing(where: string, livedMs: number, unacknowledged: number): MmaerecError {
  return new MmaerecError(
    'E_BROKER',
    `the MQTT broker at ${where} closed the connection ${livedMs} ms after accepting it, with ${unacknowledged} events unacknowledged (a broker restart, or a broker refusing this client's topics or packet size: Mosquitto disconnects on an ACL denial): check the broker log and its access rules for the mqtt.topics; events stay spooled and are retried with backoff`,
  );
}

export function publishRefused(err: Error & { code?: string | number }, topic: string): MmaerecError {
  return new MmaerecError(
    'E_BROKER',
    `the MQTT broker refused an event on "${topic}" (${err.message}): check the broker's access rules for this client and topic; the event stays spooled and is retried after the next reconnect`,
    { cause: err },
  );
}

function isTlsError(err: Error & { code?: string | number }): boolean {
  const code = String(err.code ?? '');
  return /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code) || /certificate|ssl|tls|handshake/i.test(err.message);
}
