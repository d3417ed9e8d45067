/**
 * What the MQTT sink keeps in the spool for one message: enough to publish it again after a restart without
 * the record it came from. Layout: u8 version (1), u8 flags (bit 0 retain, bit 1 binary payload), u8 qos,
 * u16 topic length, topic (UTF-8), payload.
 */
export interface OutboxMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Binary (an image) rather than a JSON event. */
  binary: boolean;
}

const VERSION = 1;

export function encodeOutbox(m: OutboxMessage): Buffer {
  const topic = Buffer.from(m.topic, 'utf8');
  const head = Buffer.allocUnsafe(5);
  head[0] = VERSION;
  head[1] = (m.retain ? 1 : 0) | (m.binary ? 2 : 0);
  head[2] = m.qos;
  head.writeUInt16BE(topic.length, 3);
  return Buffer.concat([head, topic, m.payload]);
}

/** Decodes an entry; undefined for bytes this version does not understand (they are skipped and logged). */
export function decodeOutbox(value: Uint8Array): OutboxMessage | undefined {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (buf.length < 5 || buf[0] !== VERSION || buf[2]! > 2) return undefined;
  const topicLength = buf.readUInt16BE(3);
  if (buf.length < 5 + topicLength) return undefined;
  return {
    topic: buf.toString('utf8', 5, 5 + topicLength),
    payload: buf.subarray(5 + topicLength),
    qos: buf[2] as 0 | 1 | 2,
    retain: (buf[1]! & 1) !== 0,
    binary: (buf[1]! & 2) !== 0,
  };
}
