/**
 * fetch with a deadline on the response headers only. A stuck upstream must not
 * hold a client forever, but once headers arrive a stream may legitimately run for
 * many minutes, so the deadline ends there. The client's signal still cancels the
 * request (and later its body) at any time.
 */

export class UpstreamTimeout extends Error {
  override name = 'UpstreamTimeout';
  constructor(readonly afterMs: number) {
    super(`no response headers within ${afterMs} ms`);
  }
}

export async function fetchWithHeaderDeadline(fetchImpl: typeof fetch, url: string, init: RequestInit, clientSignal: AbortSignal, deadlineMs: number): Promise<Response> {
  const controller = new AbortController();
  const onClientAbort = () => controller.abort(clientSignal.reason);
  if (clientSignal.aborted) onClientAbort();
  else clientSignal.addEventListener('abort', onClientAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, deadlineMs);
  try {
    return await fetchImpl(url, { ...init, signal: controller.signal });
  } catch (error) {
    if (timedOut && !clientSignal.aborted) throw new UpstreamTimeout(deadlineMs);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
