import type { PipelineRecord } from '../decide/result.js';
import type { ModelEventBody } from './events.js';

/**
 * Where results go. `write` resolves once the sink has accepted the record durably enough for its kind
 * (a JSON-lines file: written; MQTT: in the on-disk spool), so a caller that awaits it loses nothing.
 */
export interface Sink {
  readonly name: string;
  write(record: PipelineRecord): Promise<void>;
  /** Wait until everything accepted so far has been handed on (file flushed, broker acknowledged or spooled). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /**
   * Messages accepted but not yet handed on for good (MQTT: in the spool, not acknowledged by the broker); after
   * close(), what is left for the next start. Absent: the sink never holds anything back.
   */
  undelivered?(): number;
  /**
   * Hands on a model swap outcome: MQTT publishes it on the `model` topic, JSON lines and stdout write it as a line
   * among the records (`kind: "model"`). Every built-in sink has it; absent in a sink of your own: it does not carry them.
   */
  announce?(event: ModelEventBody): Promise<void>;
}
