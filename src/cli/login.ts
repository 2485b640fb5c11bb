/**
 * `codexin login`: logs a ChatGPT account in, in the browser (default) or with a
 * device code (headless hosts); the new account is stored and owned by CodexIn.
 */
import { ConfigError, resolveConfig } from '../config';
import type { AccountTokens } from '../store/accounts';
import { BROWSER_LOGIN_PORT, completeDeviceLogin, startDeviceLogin } from '../upstream/chatgpt/oauth';
import { chatGptClaims } from '../upstream/chatgpt/jwt';
import { parseCommandArgs, printResult } from './args';
import { withStores } from './stores';
import { browserLogin } from './login-browser';

const say = (text: string) => process.stderr.write(text);

async function deviceLogin(authUrl: string): Promise<AccountTokens> {
  const code = await startDeviceLogin(authUrl);
  say(`To log in, open ${code.verificationUrl} on any device and enter the code:\n\n    ${code.userCode}\n\nWaiting for approval (15 minutes)...\n`);
  return completeDeviceLogin(authUrl, code);
}

function callbackPort(value: string | boolean | undefined): number {
  if (typeof value !== 'string') return BROWSER_LOGIN_PORT;
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new ConfigError(`--callback-port: "${value}" is not a port number`);
  return Number(value);
}

export async function loginCommand(argv: string[]): Promise<number> {
  const { values, positionals, configFlags } = parseCommandArgs(argv, {
    label: { type: 'string' },
    'device-code': { type: 'boolean' },
    'no-browser': { type: 'boolean' },
    'callback-port': { type: 'string' },
  });
  if (positionals.length) throw new ConfigError(`login: unexpected argument "${positionals[0]}"`);
  if (values['device-code'] && (values['no-browser'] || values['callback-port'] !== undefined)) {
    throw new ConfigError('login: --no-browser and --callback-port belong to the browser login, not --device-code');
  }
  const config = resolveConfig(configFlags);
  const port = callbackPort(values['callback-port']);
  const tokens = values['device-code']
    ? await deviceLogin(config.authUrl)
    : await browserLogin({ authUrl: config.authUrl, port, openBrowser: values['no-browser'] !== true, say });
  const claims = chatGptClaims(tokens.idToken);
  const accessClaims = chatGptClaims(tokens.accessToken);
  const accountId = claims.accountId ?? accessClaims.accountId;
  if (!accountId) throw new Error('the login returned no ChatGPT account id');
  return withStores(config, async (stores) => {
    const { record, created } = await stores.accounts().upsert({
      ...tokens,
      chatgptAccountId: accountId,
      email: claims.email,
      plan: claims.plan ?? accessClaims.plan,
      label: typeof values.label === 'string' ? values.label : undefined,
      lastRefreshAt: Date.now(),
    });
    printResult(values.json === true, { id: record.id, chatgpt_account_id: record.chatgptAccountId, email: record.email, plan: record.plan, created }, () =>
      `Logged in: account ${record.id} (${record.email ?? accountId}, plan ${record.plan ?? 'unknown'}).`,
    );
    return 0;
  });
}
