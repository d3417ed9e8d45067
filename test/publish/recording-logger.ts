import type { Logger } from '../../src/publish/logger.js';

export type RecordingLogger = Logger & { lines: { level: string; obj: object; msg: string }[]; text(): string };

/** Keeps every log call so tests can assert messages, and that no secret was ever logged. */
export function recordingLogger(): RecordingLogger {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.obj)}`).join('\n'),
  };
}
