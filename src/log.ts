/**
 * Logs on stderr: JSON (one object per line) for collectors, or a pretty line per
 * event for a person at a terminal. Callers pass only fields that are safe to keep:
 * never keys, tokens or prompt text.
 */
import type { Config, LogFormat, LogLevel } from './config';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

type Level = Exclude<LogLevel, 'silent'>;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const COLOR: Record<Level, string> = { debug: '\x1b[2m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

function prettyValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return typeof value === 'string' && /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/** `12:03:04.567 INFO  request GET /v1/models 200 3.1ms key_id=key_…`: the request line leads with what a person scans for. */
export function prettyLine(time: Date, level: Level, msg: string, fields: Record<string, unknown>, color = false): string {
  const rest = { ...fields };
  const lead: string[] = [];
  if (msg === 'request') {
    for (const name of ['method', 'path', 'status'] as const) {
      if (rest[name] !== undefined) lead.push(String(rest[name]));
      delete rest[name];
    }
    if (typeof rest.latency_ms === 'number') lead.push(`${rest.latency_ms}ms`);
    delete rest.latency_ms;
    if (typeof rest.error_code === 'string') lead.push(rest.error_code);
    delete rest.error_code;
  }
  const pairs = Object.entries(rest)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${prettyValue(v)}`);
  const tag = level.toUpperCase().padEnd(5);
  const head = `${time.toISOString().slice(11, 23)} ${color ? `${COLOR[level]}${tag}\x1b[0m` : tag} ${msg}`;
  return [head, ...lead, ...pairs].join(' ');
}

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line + '\n'), format: LogFormat = 'json'): Logger {
  const color = format === 'pretty' && process.stderr.isTTY === true && !process.env.NO_COLOR;
  const at = (lvl: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const time = new Date();
    write(format === 'pretty' ? prettyLine(time, lvl, msg, fields, color) : JSON.stringify({ time: time.toISOString(), level: lvl, msg, ...fields }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The logger of a running command, as its config asks (level and format). */
export function loggerFor(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  return createLogger(config.logLevel, undefined, config.logFormat);
}

export const silentLogger: Logger = createLogger('silent');
