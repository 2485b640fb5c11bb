/**
 * Flags + environment → one validated Config (DESIGN.md §3). Every flag has a
 * CODEXIN_* twin; a flag wins over its env twin, which wins over the default.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type UpstreamKind = 'chatgpt' | 'openai' | 'mock';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'pretty' | 'json';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  upstream: UpstreamKind;
  upstreamUrl: string;
  authUrl: string;
  logLevel: LogLevel;
  /** `pretty` for a person at a terminal, `json` (one object per line) for collectors. */
  logFormat: LogFormat;
  /** SSE keepalive comment interval during upstream silences. */
  keepaliveMs: number;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Largest accepted uploaded file (POST /v1/files); larger is a 413. */
  maxFileBytes: number;
  /** How long to wait for the upstream's response headers. */
  upstreamTimeoutMs: number;
  /** How long an upstream stream may stay silent before it is ended with an error. */
  upstreamIdleMs: number;
  /** A bearer token that may read /metrics without an admin key (for a Prometheus scraper). */
  metricsToken: string | null;
  /** Where the key that seals OAuth tokens at rest comes from. */
  secretKey: SecretKeySource;
  /**
   * Whether X-Forwarded-Host/-Proto describe the client's URL (true only behind a proxy
   * that sets them): otherwise any caller could alter the base URL /v1/me hands out.
   */
  trustProxy: boolean;
  /**
   * PostgreSQL instead of the data dir's SQLite file for all durable state, shared by
   * any number of `serve` processes. Null: SQLite (the single binary).
   */
  databaseUrl: string | null;
  /** Optional Redis for rate windows and concurrency leases across instances (needs databaseUrl). */
  redisUrl: string | null;
}

/**
 * The token-sealing key: given inline (CODEXIN_SECRET_KEY), read from a file the
 * operator names (never created for them), or the data dir's own `secret.key`,
 * generated on first use. An in-memory data dir gets a random key for its lifetime.
 */
export type SecretKeySource =
  | { kind: 'inline'; text: string }
  | { kind: 'file'; path: string; generate: boolean; shared?: boolean }
  | { kind: 'ephemeral' };

/** A bad flag or value: the CLI prints the message on one line and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The options shared by every command, as raw strings from flags. */
export interface ConfigFlags {
  host?: string;
  port?: string;
  'data-dir'?: string;
  upstream?: string;
  'upstream-url'?: string;
  'auth-url'?: string;
  'log-level'?: string;
  'secret-key-file'?: string;
  'log-format'?: string;
  'trust-proxy'?: string;
  'database-url'?: string;
  'redis-url'?: string;
}

export const CONFIG_FLAG_NAMES = ['host', 'port', 'data-dir', 'upstream', 'upstream-url', 'auth-url', 'log-level', 'log-format', 'secret-key-file', 'trust-proxy', 'database-url', 'redis-url'] as const;

const DEFAULT_UPSTREAM_URL: Record<UpstreamKind, string> = {
  chatgpt: 'https://chatgpt.com/backend-api',
  openai: 'https://api.openai.com/v1',
  mock: '',
};

function pick(flag: string | undefined, env: string | undefined): string | undefined {
  if (flag !== undefined) return flag;
  if (env !== undefined && env !== '') return env;
  return undefined;
}

function parseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--${name}: "${value}" is not a URL (expected e.g. https://host/path)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`--${name}: only http and https URLs are supported, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`--${name}: "${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(`--${name}: ${n} is out of range (${min}-${max})`);
  return n;
}

function parseBoolean(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`--${name}: "${value}" is not true or false`);
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`--${name}: "${value}" is not one of ${allowed.join(', ')}`);
}

export function resolveConfig(flags: ConfigFlags, env: Record<string, string | undefined> = process.env): Config {
  const upstream = oneOf('upstream', pick(flags.upstream, env.CODEXIN_UPSTREAM) ?? 'chatgpt', ['chatgpt', 'openai', 'mock'] as const);
  const upstreamUrlRaw = pick(flags['upstream-url'], env.CODEXIN_UPSTREAM_URL);
  const host = pick(flags.host, env.CODEXIN_HOST) ?? '127.0.0.1';
  if (!/^[\w.:\-\[\]]+$/.test(host)) throw new ConfigError(`--host: "${host}" is not a host name or address`);
  const dataDir = pick(flags['data-dir'], env.CODEXIN_DATA_DIR) ?? join(homedir(), '.codexin');
  const databaseUrl = serverUrl('database-url', pick(flags['database-url'], env.CODEXIN_DATABASE_URL), ['postgres:', 'postgresql:'], 'postgres://user:password@host:5432/codexin');
  const redisUrl = serverUrl('redis-url', pick(flags['redis-url'], env.CODEXIN_REDIS_URL), ['redis:', 'rediss:'], 'redis://host:6379');
  if (redisUrl && !databaseUrl) {
    throw new ConfigError('--redis-url needs --database-url: Redis only coordinates instances that share a PostgreSQL database');
  }
  return {
    host,
    port: parseInteger('port', pick(flags.port, env.CODEXIN_PORT) ?? '8787', 0, 65535),
    dataDir: dataDir === ':memory:' ? dataDir : resolve(dataDir),
    upstream,
    upstreamUrl: upstreamUrlRaw ? parseUrl('upstream-url', upstreamUrlRaw) : DEFAULT_UPSTREAM_URL[upstream],
    authUrl: parseUrl('auth-url', pick(flags['auth-url'], env.CODEXIN_AUTH_URL) ?? 'https://auth.openai.com'),
    logLevel: oneOf('log-level', pick(flags['log-level'], env.CODEXIN_LOG_LEVEL) ?? 'info', ['debug', 'info', 'warn', 'error', 'silent'] as const),
    logFormat: oneOf('log-format', pick(flags['log-format'], env.CODEXIN_LOG_FORMAT) ?? (process.stderr.isTTY ? 'pretty' : 'json'), ['pretty', 'json'] as const),
    keepaliveMs: parseInteger('keepalive-ms', env.CODEXIN_KEEPALIVE_MS ?? '15000', 10, 600_000),
    maxBodyBytes: parseInteger('max-body-bytes', env.CODEXIN_MAX_BODY_BYTES ?? String(64 * 1024 * 1024), 1024, 2 ** 31),
    // Uploads are buffered in memory; 512 MiB is also the ChatGPT file service's limit.
    maxFileBytes: parseInteger('max-file-bytes', env.CODEXIN_MAX_FILE_BYTES ?? String(100 * 1024 * 1024), 1, 512 * 1024 * 1024),
    upstreamTimeoutMs: parseInteger('upstream-timeout-ms', env.CODEXIN_UPSTREAM_TIMEOUT_MS ?? '120000', 100, 3_600_000),
    upstreamIdleMs: parseInteger('upstream-idle-ms', env.CODEXIN_UPSTREAM_IDLE_MS ?? '300000', 100, 86_400_000),
    metricsToken: env.CODEXIN_METRICS_TOKEN ? env.CODEXIN_METRICS_TOKEN : null,
    secretKey: secretKeySource(flags, env, dataDir, databaseUrl !== null),
    databaseUrl,
    redisUrl,
    trustProxy: parseBoolean('trust-proxy', pick(flags['trust-proxy'], env.CODEXIN_TRUST_PROXY) ?? 'false'),
  };
}

/** A database or Redis URL of one of `schemes`, or null when not given. */
function serverUrl(name: string, value: string | undefined, schemes: string[], example: string): string | null {
  if (value === undefined) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--${name}: not a URL (expected e.g. ${example})`);
  }
  // The value itself is not echoed: it usually carries a password.
  if (!schemes.includes(url.protocol)) throw new ConfigError(`--${name}: expected a ${schemes.map((s) => s.replace(':', '://')).join(' or ')} URL (e.g. ${example}), got a ${url.protocol.replace(':', '')} URL`);
  if (!url.hostname && !url.searchParams.get('host')) throw new ConfigError(`--${name}: the URL names no host (e.g. ${example})`);
  return value;
}

// The flag wins over the env key, which wins over CODEXIN_SECRET_KEY_FILE (the flag's env twin).
// With a shared database, every instance must seal with the same key: the data dir's
// key file is used when present but never generated (one per host would not open the
// others' tokens).
function secretKeySource(flags: ConfigFlags, env: Record<string, string | undefined>, dataDir: string, shared: boolean): SecretKeySource {
  const file = flags['secret-key-file'];
  if (file !== undefined) {
    if (!file) throw new ConfigError('--secret-key-file: give the path of a key file');
    return { kind: 'file', path: resolve(file), generate: false };
  }
  if (env.CODEXIN_SECRET_KEY) return { kind: 'inline', text: env.CODEXIN_SECRET_KEY };
  if (env.CODEXIN_SECRET_KEY_FILE) return { kind: 'file', path: resolve(env.CODEXIN_SECRET_KEY_FILE), generate: false };
  if (shared) return { kind: 'file', path: join(dataDir === ':memory:' ? homedir() : resolve(dataDir), 'secret.key'), generate: false, shared: true };
  if (dataDir === ':memory:') return { kind: 'ephemeral' };
  return { kind: 'file', path: join(resolve(dataDir), 'secret.key'), generate: true };
}

/** Parses `30d`, `12h`, `45m`, `90s` into milliseconds. */
export function parseDuration(name: string, value: string): number {
  const m = /^(\d+)([smhdw])$/.exec(value.trim());
  if (!m) throw new ConfigError(`--${name}: "${value}" is not a duration (e.g. 30d, 12h, 45m)`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new ConfigError(`--${name}: duration must be positive`);
  return ms;
}
