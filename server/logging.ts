import type { FastifyServerOptions } from 'fastify';
import pretty from 'pino-pretty';
import type { Config } from './config.ts';

/**
 * The relay's logger (config LOG_LEVEL and LOG_FORMAT): JSON lines, as pino writes them, or
 * pino-pretty's readable lines ("19:04:05 WARN: …") for someone at a terminal. `destination`
 * defaults to stdout; tests pass a stream to read what would be printed.
 */
export function relayLogger(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  destination?: NodeJS.WritableStream,
): FastifyServerOptions['logger'] {
  if (config.logFormat === 'json') {
    return destination === undefined
      ? { level: config.logLevel }
      : { level: config.logLevel, stream: destination };
  }
  return {
    level: config.logLevel,
    // Synchronous, in this thread: a line logged just before the process exits is still printed.
    stream: pretty({
      sync: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
      destination: destination ?? 1,
      // Colours only on the relay's own terminal (pino-pretty's default, which honours NO_COLOR).
      ...(destination === undefined ? {} : { colorize: false }),
    }),
  };
}
