/**
 * How every instance's in-memory caches follow the database. A writer sends
 * `NOTIFY codexin_changes, '<table>:<id>'` inside its transaction (delivered only if
 * it commits); each instance LISTENs and reloads that one row. Notifications sent
 * while an instance was not listening are lost, so a (re)subscription reloads
 * everything, and so does a timer every RELOAD_MS as a backstop.
 */
import type { Logger } from '../../log';
import { CHANGES_CHANNEL, type Pg } from './database';

export type ChangeTopic = 'keys' | 'accounts' | 'models';

export interface ChangeHandler {
  /** Reloads one row (`id` empty: the whole table). */
  one(id: string): Promise<void>;
  all(): Promise<void>;
}

const RELOAD_MS = 60_000;

/** The payload a writer sends for a change to one row of `topic` (an empty id: the whole table). */
export function changePayload(topic: ChangeTopic, id = ''): string {
  return `${topic}:${id}`;
}

export class ChangeFeed {
  private readonly handlers = new Map<ChangeTopic, ChangeHandler>();
  private subscription: { unlisten(): Promise<void> } | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly sql: Pg,
    private readonly logger?: Logger,
  ) {}

  on(topic: ChangeTopic, handler: ChangeHandler): void {
    this.handlers.set(topic, handler);
  }

  async start(): Promise<void> {
    let first = true;
    this.subscription = await this.sql.listen(
      CHANGES_CHANNEL,
      (payload) => void this.dispatch(payload),
      () => {
        if (first) {
          first = false;
          return;
        }
        this.logger?.info('database change feed reconnected; reloading the caches');
        void this.reloadAll();
      },
    );
    this.timer = setInterval(() => void this.reloadAll(), RELOAD_MS);
    this.timer.unref?.();
  }

  private async dispatch(payload: string): Promise<void> {
    const colon = payload.indexOf(':');
    const topic = (colon < 0 ? payload : payload.slice(0, colon)) as ChangeTopic;
    const id = colon < 0 ? '' : payload.slice(colon + 1);
    const handler = this.handlers.get(topic);
    if (!handler) return;
    try {
      await (id ? handler.one(id) : handler.all());
    } catch (error) {
      this.logger?.warn('a database change could not be loaded; the next full reload catches up', { topic, error: (error as Error).message });
    }
  }

  /** Reloads every cache; a failure keeps what memory has (the request path keeps serving). */
  async reloadAll(): Promise<void> {
    for (const [topic, handler] of this.handlers) {
      try {
        await handler.all();
      } catch (error) {
        this.logger?.warn('database reload failed; serving from the cache', { topic, error: (error as Error).message });
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.subscription?.unlisten().catch(() => {});
    this.subscription = null;
  }
}
