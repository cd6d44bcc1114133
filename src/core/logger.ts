import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line (tested in test/core/logger.test.ts). */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'password',
  '*.password',
  '*.*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'sasl.password',
  '*.sasl.password',
  'secret',
  '*.secret',
];

export interface LoggerOptions {
  level?: string;
  /** Pretty output for people; defaults to whether stderr is a TTY. */
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}

/** The one pino root. Components take `logger.child({ component })`. JSON on stderr by default. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.SOCSTREAM_LOG_LEVEL ?? 'info';
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (options.destination) return pino({ level, redact }, options.destination as never);
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  if (pretty) {
    return pino({
      level,
      redact,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    });
  }
  return pino({ level, redact }, pino.destination({ dest: 2, sync: true }));
}
