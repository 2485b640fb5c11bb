/**
 * Which outbound proxy Bun's fetch uses for a URL, from the standard HTTP_PROXY /
 * HTTPS_PROXY / NO_PROXY variables, so messages can say where a request went.
 * The answer never includes the proxy's credentials: they are secrets.
 */

type Env = Record<string, string | undefined>;

function bypassed(host: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  return noProxy
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/:\d+$/, ''))
    .filter(Boolean)
    .some((entry) => entry === '*' || host === entry.replace(/^\./, '') || host.endsWith(entry.startsWith('.') ? entry : `.${entry}`));
}

/** `http://proxy.internal:3128` (no user or password), or null when the URL is fetched directly. */
export function proxyFor(url: string, env: Env = process.env): string | null {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return null;
  }
  const raw = (target.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : undefined) ?? env.HTTP_PROXY ?? env.http_proxy;
  if (!raw || bypassed(target.hostname.toLowerCase(), env.NO_PROXY ?? env.no_proxy)) return null;
  try {
    const proxy = new URL(raw);
    return `${proxy.protocol}//${proxy.host}`;
  } catch {
    return 'an unparsable proxy URL';
  }
}
