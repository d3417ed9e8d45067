import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Log file; default stderr (stdout stays free for records). */
  file?: string;
}

/** Structured JSON logs (pino). Synchronous destination: nothing is lost when the process exits on a signal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.file ? pino.destination({ dest: options.file, sync: true, mkdir: true }) : pino.destination({ fd: 2, sync: true });
  return pino({ name: 'mmaerec-edge', level: options.level ?? 'info' }, destination);
}
