/**
 * Doctor's upstream check: can this host reach the upstream, directly or through
 * the proxy HTTP(S)_PROXY names? Any HTTP answer proves reachability except a 5xx
 * (or 407) when a proxy is in the way: that is the proxy saying it could not get
 * through, not the upstream answering.
 */
import { proxyFor } from '../upstream/proxy-env';

export interface UpstreamCheck {
  name: 'upstream';
  ok: boolean;
  detail: string;
}

export async function checkUpstream(upstreamUrl: string, env: Record<string, string | undefined> = process.env): Promise<UpstreamCheck> {
  const proxy = proxyFor(upstreamUrl, env);
  const via = proxy ? ` through the proxy ${proxy}` : '';
  let response: Response;
  try {
    response = await fetch(upstreamUrl, { method: 'GET', signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
  } catch (error) {
    const hint = proxy ? 'check the proxy (HTTPS_PROXY/HTTP_PROXY) and NO_PROXY' : 'check the network, DNS, and whether this host needs a proxy (HTTPS_PROXY)';
    return { name: 'upstream', ok: false, detail: `${upstreamUrl} unreachable${via}: ${(error as Error).message}; ${hint}` };
  }
  const status = response.status;
  if (proxy && status === 407) {
    return { name: 'upstream', ok: false, detail: `the proxy ${proxy} wants credentials (HTTP 407): put them in the proxy URL, http://user:password@host:port` };
  }
  if (proxy && status >= 500) {
    return { name: 'upstream', ok: false, detail: `the proxy ${proxy} answered HTTP ${status} for ${upstreamUrl}: it could not reach the upstream; check the proxy's access, or list the host in NO_PROXY` };
  }
  if (status >= 500) return { name: 'upstream', ok: false, detail: `${upstreamUrl} answered HTTP ${status}: the upstream is failing right now` };
  return { name: 'upstream', ok: true, detail: `${upstreamUrl} reachable${via} (HTTP ${status})` };
}
