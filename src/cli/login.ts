/** `codexin login`: ChatGPT device-code login; the new account is stored and owned by CodexIn. */
import { ConfigError, resolveConfig } from '../config';
import { AccountStore } from '../store/accounts';
import { completeDeviceLogin, startDeviceLogin } from '../upstream/chatgpt/oauth';
import { chatGptClaims } from '../upstream/chatgpt/jwt';
import { parseCommandArgs, printResult } from './args';
import { withDataDir } from './data-dir';

export async function loginCommand(argv: string[]): Promise<number> {
  const { values, positionals, configFlags } = parseCommandArgs(argv, { label: { type: 'string' } });
  if (positionals.length) throw new ConfigError(`login: unexpected argument "${positionals[0]}"`);
  const config = resolveConfig(configFlags);
  const code = await startDeviceLogin(config.authUrl);
  process.stderr.write(`To log in, open ${code.verificationUrl} and enter the code:\n\n    ${code.userCode}\n\nWaiting for approval (15 minutes)...\n`);
  const tokens = await completeDeviceLogin(config.authUrl, code);
  const claims = chatGptClaims(tokens.idToken);
  const accessClaims = chatGptClaims(tokens.accessToken);
  const accountId = claims.accountId ?? accessClaims.accountId;
  if (!accountId) throw new Error('the login returned no ChatGPT account id');
  return withDataDir(config, (db) => {
    const { record, created } = new AccountStore(db).upsert({
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
