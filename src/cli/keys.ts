/** `codexin keys create|list|revoke`: manage API keys from the shell. */
import { ConfigError, parseDuration, resolveConfig } from '../config';
import { keyView, type KeyScope } from '../store/keys';
import { parseCommandArgs, printResult } from './args';
import { withStores } from './stores';
import { describeDuration, utc } from './quota';

const USAGE =
  'usage: codexin keys create --name NAME [--advanced] [--admin] [--expires-in 30d] [--models a,b] [--rpm N] [--tokens-per-day N] [--tokens-per-week N] [--max-concurrent N] [--json] | keys list [--json] | keys revoke ID [--json]';

function positiveInt(name: string, value: string | boolean | undefined): number | null {
  if (typeof value !== 'string') return null;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new ConfigError(`--${name}: "${value}" is not a positive whole number`);
  return Number(value);
}

type KeyView = ReturnType<typeof keyView>;

/** One key as an operator reads it: state, then its limits, then when it expires and was last used. */
export function describeKey(k: KeyView, now = Date.now()): string {
  const state = k.revoked_at ? `REVOKED ${utc(k.revoked_at)}` : k.expires_at !== null && k.expires_at <= now ? `EXPIRED ${utc(k.expires_at)}` : 'active';
  const limits = [
    k.rpm !== null ? `${k.rpm} requests/min` : null,
    k.token_quota_daily !== null ? `${k.token_quota_daily} tokens/day` : null,
    k.token_quota_weekly !== null ? `${k.token_quota_weekly} tokens/week` : null,
    k.max_concurrent !== null ? `${k.max_concurrent} concurrent` : null,
    k.models ? `models ${k.models.join(',')}` : null,
  ].filter((x): x is string => x !== null);
  const times = [
    k.expires_at === null ? 'never expires' : k.expires_at > now ? `expires ${utc(k.expires_at)} (in ${describeDuration(k.expires_at - now)})` : null,
    `last used ${k.last_used_at ? utc(k.last_used_at) : 'never'}`,
  ].filter((x): x is string => x !== null);
  return [`${k.id}  ${k.prefix}…  ${k.name}  [${k.scopes.join(',') || 'basic'}]  ${state}`, `  limits: ${limits.length ? limits.join(', ') : 'none'}`, `  ${times.join('; ')}`].join('\n');
}

export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals, configFlags } = parseCommandArgs(rest, {
    name: { type: 'string' },
    advanced: { type: 'boolean' },
    admin: { type: 'boolean' },
    'expires-in': { type: 'string' },
    models: { type: 'string' },
    rpm: { type: 'string' },
    'tokens-per-day': { type: 'string' },
    'tokens-per-week': { type: 'string' },
    'max-concurrent': { type: 'string' },
  });
  const json = values.json === true;
  const config = resolveConfig(configFlags);
  const createOnly = ['name', 'advanced', 'admin', 'expires-in', 'models', 'rpm', 'tokens-per-day', 'tokens-per-week', 'max-concurrent'];
  if (sub !== 'create' && createOnly.some((name) => values[name] !== undefined)) {
    throw new ConfigError(`keys ${sub ?? ''}: key options only apply to "keys create"`);
  }
  switch (sub) {
    case 'create': {
      const name = values.name;
      if (typeof name !== 'string' || name.trim() === '') throw new ConfigError('keys create: --name is required');
      if (positionals.length) throw new ConfigError(`keys create: unexpected argument "${positionals[0]}"`);
      const scopes: KeyScope[] = [];
      if (values.advanced) scopes.push('advanced');
      if (values.admin) scopes.push('admin');
      const expiresIn = typeof values['expires-in'] === 'string' ? parseDuration('expires-in', values['expires-in']) : null;
      const rpm = positiveInt('rpm', values.rpm);
      const tokenQuotaDaily = positiveInt('tokens-per-day', values['tokens-per-day']);
      const tokenQuotaWeekly = positiveInt('tokens-per-week', values['tokens-per-week']);
      const maxConcurrent = positiveInt('max-concurrent', values['max-concurrent']);
      const models = typeof values.models === 'string' ? values.models.split(',').map((m) => m.trim()).filter(Boolean) : null;
      if (models && models.length === 0) throw new ConfigError('--models: give at least one model id');
      return withStores(config, async (stores) => {
        const { record, secret } = await stores.keys().create({
          name: name.trim(),
          scopes,
          expiresAt: expiresIn ? Date.now() + expiresIn : null,
          rpm,
          tokenQuotaDaily,
          tokenQuotaWeekly,
          maxConcurrent,
          allowedModels: models,
        });
        printResult(json, { ...keyView(record), key: secret }, () =>
          [`Created key ${record.id} (${record.name})${scopes.length ? ' with ' + scopes.join(', ') + ' access' : ''}.`, '', `  ${secret}`, '', 'Copy it now: it is shown only once.'].join('\n'),
        );
        return 0;
      });
    }
    case 'list': {
      return withStores(config, (stores) => {
        const keys = stores.keys().list().map(keyView);
        printResult(json, keys, () =>
          keys.length === 0
            ? 'No keys.'
            : keys
                .map((k) => describeKey(k))
                .join('\n'),
        );
        return 0;
      });
    }
    case 'revoke': {
      const id = positionals[0];
      if (!id || positionals.length > 1) throw new ConfigError('keys revoke: give exactly one key id (see codexin keys list)');
      return withStores(config, async (stores) => {
        const ok = await stores.keys().revoke(id);
        if (!ok) {
          process.stderr.write(`codexin: no key with id ${id}\n`);
          return 1;
        }
        printResult(json, { id, revoked: true }, () => `Revoked ${id}.`);
        return 0;
      });
    }
    default:
      throw new ConfigError(sub ? `keys: unknown subcommand "${sub}"; ${USAGE}` : USAGE);
  }
}
