import { pino } from 'pino';

/**
 * The logging surface publish/ needs: pino's `(object, message)` call shape, so a pino logger (or a child of the
 * application's) can be passed in as is. Nothing here ever logs a password, key or URL credential: see redactConfig/redactUrl in mqtt-config.ts.
 */
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

let fallback: Logger | undefined;

/** A pino logger on stderr (stdout stays free for data), created on first use. */
export function defaultLogger(): Logger {
  fallback ??= pino({ name: 'mmaerec-edge', level: process.env.MMAEREC_LOG_LEVEL ?? 'info' }, pino.destination(2));
  return fallback;
}

/** Discards everything; for callers that surface problems through events instead. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
