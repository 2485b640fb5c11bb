import { describe, expect, test } from 'bun:test';
import { parseAuthJson, AuthJsonError } from '../../../src/upstream/chatgpt/auth-json';

function jwt(payload: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc(payload)}.c2ln`;
}

const exp = 1_900_000_000;
const idToken = jwt({ email: 'ada@example.com', 'https://api.openai.com/auth': { chatgpt_account_id: 'acc-123', chatgpt_plan_type: 'plus', chatgpt_user_id: 'user-1' } });
const accessToken = jwt({ exp, 'https://api.openai.com/auth': { chatgpt_account_id: 'acc-123' } });

describe('parseAuthJson', () => {
  test('reads a Codex CLI ChatGPT login: account id, plan, email and expiry from the claims', () => {
    const input = parseAuthJson(
      JSON.stringify({ auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens: { id_token: idToken, access_token: accessToken, refresh_token: 'rt_1', account_id: 'acc-123' }, last_refresh: '2026-11-20T10:00:00.123456789Z' }),
    );
    expect(input.chatgptAccountId).toBe('acc-123');
    expect(input.plan).toBe('plus');
    expect(input.email).toBe('ada@example.com');
    expect(input.accessExpiresAt).toBe(exp * 1000);
    expect(input.refreshToken).toBe('rt_1');
    expect(input.lastRefreshAt).toBe(Date.parse('2026-11-20T10:00:00.123Z'));
  });

  test('derives the account id from the id_token when tokens.account_id is absent', () => {
    const input = parseAuthJson(JSON.stringify({ tokens: { id_token: idToken, access_token: accessToken, refresh_token: 'rt' } }));
    expect(input.chatgptAccountId).toBe('acc-123');
  });

  test('explains what is wrong with files that hold no ChatGPT login', () => {
    expect(() => parseAuthJson('not json')).toThrow(AuthJsonError);
    expect(() => parseAuthJson(JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-x' }))).toThrow(/API key login/);
    expect(() => parseAuthJson(JSON.stringify({ tokens: { id_token: idToken, access_token: accessToken } }))).toThrow(/refresh_token/);
  });
});
