import { Code } from './errors';

export type LogLevel = 'silent' | 'warn' | 'info' | 'debug';
const rank: Record<LogLevel, number> = { silent: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  /** One `preheat:` line on stderr; the same warning is written once per process, however often it happens. */
  warn(code: Code, message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export type Sink = (line: string) => void;

/** stderr only: stdout belongs to the app. A failing stderr (EPIPE, closed fd) is ignored. */
export const stderrSink: Sink = (line) => {
  try {
    process.stderr.write(line);
  } catch {
    // Nowhere left to report to; the app must not notice.
  }
};

export function createLogger(level: LogLevel, sink: Sink = stderrSink): Logger {
  const warned = new Set<string>();
  const emit = (min: LogLevel, text: string) => {
    if (rank[level] >= rank[min]) sink(`preheat: ${text}\n`);
  };
  return {
    warn(code, message) {
      const key = `${code} ${message}`;
      if (warned.has(key)) return;
      warned.add(key);
      emit('warn', `${message} [${code}]`);
    },
    info: (message) => emit('info', message),
    debug: (message) => emit('debug', message),
  };
}
