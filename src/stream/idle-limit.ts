/**
 * Ends an upstream stream that has gone silent for too long. Keepalives keep the
 * client's connection open through long model pauses, so without a limit a stuck
 * upstream would hold the client, an upstream connection and a capacity slot
 * forever. The thrown UpstreamIdle becomes `error` + `response.failed` in the
 * normalizer; the upstream request is cancelled on the way out.
 */
import { eagerReturn } from './eager-return';

export class UpstreamIdle extends Error {
  override name = 'UpstreamIdle';
  constructor(readonly afterMs: number) {
    super(`the upstream sent nothing for ${Math.round(afterMs / 1000)} s`);
  }
}

export function withIdleLimit<T>(source: AsyncIterable<T>, idleMs: number): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  async function* run(): AsyncGenerator<T, void, undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      for (;;) {
        const silence = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new UpstreamIdle(idleMs)), idleMs);
        });
        let result: IteratorResult<T>;
        try {
          result = await Promise.race([iterator.next(), silence]);
        } finally {
          clearTimeout(timer);
        }
        if (result.done) return;
        yield result.value;
      }
    } finally {
      // Not awaited: the source may still be blocked on a read that only this cancel frees.
      void Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }
  return eagerReturn(run(), () => iterator.return?.());
}
