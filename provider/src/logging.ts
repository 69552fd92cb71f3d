import pino, { Logger } from 'pino';

export type { Logger } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * JSON logs on stdout. The level comes from LOG_LEVEL (default `info`); an
 * unknown level stops start-up rather than being ignored.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  if (!LEVELS.includes(level)) {
    throw new Error(`LOG_LEVEL is "${level}", which is not a log level. Use one of: ${LEVELS.join(', ')}.`);
  }
  return pino({
    level,
    base: { component: 'secrets-store-provider' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Defence in depth: these keys never carry values we may log, whatever a caller passes.
    redact: { paths: ['token', 'tokens', 'attributes', 'secrets', 'contents', '*.token', '*.SecretString', '*.Value'], censor: '[redacted]' },
  });
}

/**
 * Routes Node's process warnings into the JSON log (level warn) instead of
 * Node's plain-text line on stderr, so every output line is JSON.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ warning: warning.name, detail: warning.message }, 'node warning'));
}
