/**
 * `codexin accounts import|list|remove`. Importing copies the tokens into CodexIn's
 * database: from then on CodexIn owns and rotates them, so the Codex CLI that
 * produced the auth.json must not keep using the same login (rotation would
 * invalidate one of the two copies).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, resolveConfig } from '../config';
import { accountView } from '../store/accounts';
import { AuthJsonError, parseAuthJson } from '../upstream/chatgpt/auth-json';
import { parseCommandArgs, printResult } from './args';
import { describeWindow, quotaWindows, utc } from './quota';
import { withStores } from './stores';

const USAGE = 'usage: codexin accounts import PATH [--label NAME] | accounts list [--json] | accounts remove ID';

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function jsonObject(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Why a token of an auth.json is not a ChatGPT JWT, or null when it is one. Checked
 * on import because a file of placeholders would otherwise be stored, and /readyz
 * would call the server ready until the first request failed.
 */
export function jwtProblem(token: string): string | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !BASE64URL.test(p))) return 'is not a JWT (three base64url parts separated by dots)';
  if (!jsonObject(parts[0]!)) return 'is not a JWT (its header is not a JSON object)';
  const payload = jsonObject(parts[1]!);
  if (!payload) return 'is not a JWT (its payload is not a JSON object)';
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) return 'has no expiry (exp claim)';
  return null;
}

export async function accountsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals, configFlags } = parseCommandArgs(rest, { label: { type: 'string' } });
  const json = values.json === true;
  const config = resolveConfig(configFlags);
  switch (sub) {
    case 'import': {
      const path = positionals[0];
      if (!path || positionals.length > 1) throw new ConfigError('accounts import: give the path of one Codex CLI auth.json');
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new ConfigError(`accounts import: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      let input;
      try {
        input = parseAuthJson(text);
      } catch (error) {
        if (error instanceof AuthJsonError) throw new ConfigError(`accounts import: ${path}: ${error.message}`);
        throw error;
      }
      for (const [name, token] of [['id_token', input.idToken], ['access_token', input.accessToken]] as const) {
        const problem = jwtProblem(token);
        if (problem) throw new ConfigError(`accounts import: ${path}: tokens.${name} ${problem}; expected the auth.json of a Codex CLI ChatGPT login (~/.codex/auth.json)`);
      }
      if (/\s/.test(input.refreshToken)) throw new ConfigError(`accounts import: ${path}: tokens.refresh_token contains whitespace; expected the auth.json of a Codex CLI ChatGPT login`);
      return withStores(config, async (stores) => {
        const { record, created } = await stores.accounts().upsert({ ...input, label: typeof values.label === 'string' ? values.label : undefined });
        printResult(json, { ...accountView(record), created }, () =>
          [
            `${created ? 'Imported' : 'Updated'} account ${record.id} (${record.email ?? record.chatgptAccountId}, plan ${record.plan ?? 'unknown'}).`,
            'CodexIn now owns this login and rotates its tokens: do not keep using the same auth.json in a running Codex CLI',
            '(log the CLI in again, or give CodexIn its own login with "codexin login").',
          ].join('\n'),
        );
        return 0;
      });
    }
    case 'list': {
      return withStores(config, (stores) => {
        const accounts = stores.accounts().list().map((record) => ({ ...accountView(record), quota_windows: quotaWindows(record.quota) }));
        const now = Date.now();
        printResult(json, accounts, () =>
          accounts.length === 0
            ? 'No accounts. Import one with "codexin accounts import ~/.codex/auth.json" or run "codexin login".'
            : accounts
                .map((a) => {
                  const state =
                    a.status !== 'active'
                      ? `${a.status.toUpperCase()}${a.status_message ? `: ${a.status_message}` : ''}`
                      : a.cooldown_until && a.cooldown_until > now
                        ? `cooling down until ${utc(a.cooldown_until)}`
                        : 'active';
                  const lines = [`${a.id}  ${a.label}  plan ${a.plan ?? '?'}  ${state}`];
                  if (a.access_expires_at) lines.push(`  access token ${a.access_expires_at <= now ? 'expired (refreshed on next use)' : `valid until ${utc(a.access_expires_at)}`}`);
                  lines.push(a.quota_windows.length ? `  quota: ${a.quota_windows.map((w) => describeWindow(w, now)).join('; ')}` : '  quota: not known yet (learned from the first request)');
                  return lines.join('\n');
                })
                .join('\n'),
        );
        return 0;
      });
    }
    case 'remove': {
      const id = positionals[0];
      if (!id || positionals.length > 1) throw new ConfigError('accounts remove: give exactly one account id (see codexin accounts list)');
      return withStores(config, async (stores) => {
        if (!(await stores.accounts().remove(id))) {
          process.stderr.write(`codexin: no account with id ${id}\n`);
          return 1;
        }
        printResult(json, { id, removed: true }, () => `Removed ${id}.`);
        return 0;
      });
    }
    default:
      throw new ConfigError(sub ? `accounts: unknown subcommand "${sub}"; ${USAGE}` : USAGE);
  }
}
