/**
 * Keep-alives for quiet streams. A reasoning model can think for minutes before its
 * first token; proxies, load balancers and client idle timers close a connection that
 * carries nothing for that long. withKeepalive() yields KEEPALIVE each time the source
 * has been silent for `intervalMs`, and the SSE writer turns it into a comment line.
 */
import { eagerReturn } from './eager-return';

export const KEEPALIVE: unique symbol = Symbol('keepalive');

const SILENT = Symbol('silent');

export function withKeepalive<T>(source: AsyncIterable<T>, intervalMs: number): AsyncGenerator<T | typeof KEEPALIVE, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  let cancelled = false;

  async function* run(): AsyncGenerator<T | typeof KEEPALIVE, void, undefined> {
    let sourceFinished = false;
    try {
      while (true) {
        // The source's next() outlives a keep-alive: the same pull is awaited again afterwards,
        // so no item is lost or reordered.
        pending ??= iterator.next();
        let timer: ReturnType<typeof setTimeout> | undefined;
        // A non-positive interval disables keep-alives (a 0 ms timer would spin out comments).
        const silence =
          intervalMs > 0
            ? new Promise<typeof SILENT>((resolve) => {
                timer = setTimeout(() => resolve(SILENT), intervalMs);
              })
            : undefined;
        let result: IteratorResult<T> | typeof SILENT;
        try {
          result = silence ? await Promise.race([pending, silence]) : await pending;
        } catch (error) {
          sourceFinished = true;
          throw error;
        } finally {
          clearTimeout(timer);
        }
        if (cancelled) return;
        if (result === SILENT) {
          yield KEEPALIVE;
          continue;
        }
        pending = undefined;
        if (result.done) {
          sourceFinished = true;
          return;
        }
        yield result.value;
      }
    } finally {
      if (!sourceFinished && !cancelled) {
        abandonPending();
        try {
          await iterator.return?.();
        } catch {
          // The consumer is leaving; a failing cancel has no one to report to.
        }
      }
    }
  }

  /** A pull left in flight when the consumer leaves must not surface as an unhandled rejection. */
  function abandonPending(): void {
    pending?.catch(() => {});
    pending = undefined;
  }

  return eagerReturn(run(), () => {
    cancelled = true;
    abandonPending();
    return iterator.return?.();
  });
}
