/**
 * Cancellation that reaches the network at once.
 *
 * An async generator queues `return()` behind a pending `next()`: while it sits in
 * `await upstream.next()` (waiting for the upstream's next SSE chunk, possibly for
 * minutes), a consumer's `return()` does nothing until that chunk arrives. For a
 * disconnected client that means the upstream request keeps running. This wrapper
 * runs `onCancel` (which cancels the layer below) the moment `return()`/`throw()`
 * is called, so the pending read resolves and the queued return can complete.
 */
export function eagerReturn<T>(inner: AsyncGenerator<T, void, undefined>, onCancel: () => unknown): AsyncGenerator<T, void, undefined> {
  let cancelled = false;
  const cancel = (): void => {
    if (cancelled) return;
    cancelled = true;
    try {
      // The cancel result may be a promise that rejects (e.g. a reader already errored): nothing to report.
      void Promise.resolve(onCancel()).catch(() => {});
    } catch {
      // Same: a failing cancel must not mask the consumer's own return.
    }
  };
  const wrapper: AsyncGenerator<T, void, undefined> = {
    next: (...args: [] | [undefined]) => inner.next(...args),
    return: (value?: void | PromiseLike<void>) => {
      cancel();
      return inner.return(value as void);
    },
    throw: (error: unknown) => {
      cancel();
      return inner.throw(error);
    },
    [Symbol.asyncIterator]: () => wrapper,
    [Symbol.asyncDispose]: async () => {
      await wrapper.return(undefined);
    },
  };
  return wrapper;
}
