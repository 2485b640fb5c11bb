/** `codexin keys create|list|revoke`: manage API keys from the shell. */
import { ConfigError, parseDuration, resolveConfig } from '../config';
import { KeyStore, type KeyRecord, type KeyScope } from '../store/keys';
import { closeDatabase } from '../store/db';
import { parseCommandArgs, printResult } from './args';
import { openDataDir } from './data-dir';

export function publicKeyView(k: KeyRecord) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_at: k.createdAt,
    last_used_at: k.lastUsedAt,
    expires_at: k.expiresAt,
    revoked_at: k.revokedAt,
    rpm: k.rpm,
    models: k.allowedModels,
  };
}

const USAGE = 'usage: codexin keys create --name NAME [--advanced] [--admin] [--expires-in 30d] [--models a,b] [--rpm N] [--json] | keys list [--json] | keys revoke ID [--json]';

export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals, configFlags } = parseCommandArgs(rest, {
    name: { type: 'string' },
    advanced: { type: 'boolean' },
    admin: { type: 'boolean' },
    'expires-in': { type: 'string' },
    models: { type: 'string' },
    rpm: { type: 'string' },
  });
  const json = values.json === true;
  const config = resolveConfig(configFlags);
  if (sub !== 'create' && (values.name !== undefined || values.advanced || values.admin || values['expires-in'] || values.models || values.rpm)) {
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
      let rpm: number | null = null;
      if (typeof values.rpm === 'string') {
        if (!/^\d+$/.test(values.rpm) || Number(values.rpm) < 1) throw new ConfigError(`--rpm: "${values.rpm}" is not a positive whole number`);
        rpm = Number(values.rpm);
      }
      const models = typeof values.models === 'string' ? values.models.split(',').map((m) => m.trim()).filter(Boolean) : null;
      if (models && models.length === 0) throw new ConfigError('--models: give at least one model id');
      const db = openDataDir(config);
      try {
        const { record, secret } = new KeyStore(db).create({ name: name.trim(), scopes, expiresAt: expiresIn ? Date.now() + expiresIn : null, rpm, allowedModels: models });
        printResult(json, { ...publicKeyView(record), key: secret }, () =>
          [`Created key ${record.id} (${record.name})${scopes.length ? ' with ' + scopes.join(', ') + ' access' : ''}.`, '', `  ${secret}`, '', 'Copy it now: it is shown only once.'].join('\n'),
        );
      } finally {
        closeDatabase(db);
      }
      return 0;
    }
    case 'list': {
      const db = openDataDir(config);
      try {
        const keys = new KeyStore(db).list().map(publicKeyView);
        printResult(json, keys, () =>
          keys.length === 0
            ? 'No keys.'
            : keys
                .map((k) => `${k.id}  ${k.prefix}…  ${k.name}  [${k.scopes.join(',') || 'basic'}]${k.revoked_at ? '  REVOKED' : k.expires_at && k.expires_at < Date.now() ? '  EXPIRED' : ''}`)
                .join('\n'),
        );
      } finally {
        closeDatabase(db);
      }
      return 0;
    }
    case 'revoke': {
      const id = positionals[0];
      if (!id || positionals.length > 1) throw new ConfigError('keys revoke: give exactly one key id (see codexin keys list)');
      const db = openDataDir(config);
      try {
        const ok = new KeyStore(db).revoke(id);
        if (!ok) {
          process.stderr.write(`codexin: no key with id ${id}\n`);
          return 1;
        }
        printResult(json, { id, revoked: true }, () => `Revoked ${id}.`);
      } finally {
        closeDatabase(db);
      }
      return 0;
    }
    default:
      throw new ConfigError(sub ? `keys: unknown subcommand "${sub}"; ${USAGE}` : USAGE);
  }
}
