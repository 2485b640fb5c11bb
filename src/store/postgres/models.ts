/**
 * The model catalog in PostgreSQL: held in memory, reloaded whole on any change
 * notice (it is a handful of rows), written through with the notice in the same
 * transaction.
 */
import { MODEL_SEED, modelRecord, type CatalogEntry, type ModelRecord, type ModelRow, type ModelStore } from '../models';
import { changePayload, type ChangeFeed } from './changes';
import { CHANGES_CHANNEL, pgCall, type Pg } from './database';

export class PgModelStore implements ModelStore {
  private ordered: ModelRecord[] = [];
  private byId = new Map<string, ModelRecord>();

  private constructor(private readonly sql: Pg) {}

  static async open(sql: Pg, feed: ChangeFeed): Promise<PgModelStore> {
    const store = new PgModelStore(sql);
    await store.reload();
    const reload = () => store.reload();
    feed.on('models', { one: reload, all: reload });
    return store;
  }

  async reload(): Promise<void> {
    const rows = (await pgCall(this.sql, 'loading models', () => this.sql`SELECT * FROM models ORDER BY position, id`)) as ModelRow[];
    this.ordered = rows.map(modelRecord);
    this.byId = new Map(this.ordered.map((m) => [m.id, m]));
  }

  private async write(what: string, work: (tx: Pg) => Promise<void>): Promise<void> {
    await pgCall(this.sql, what, () =>
      this.sql.begin(async (tx) => {
        await work(tx);
        await tx`SELECT pg_notify(${CHANGES_CHANNEL}, ${changePayload('models')})`;
      }),
    );
    await this.reload();
  }

  listEnabled(): ModelRecord[] {
    return this.ordered.filter((m) => m.enabled).map((m) => ({ ...m }));
  }

  get(id: string): ModelRecord | null {
    const model = this.byId.get(id);
    return model ? { ...model } : null;
  }

  listAll(): ModelRecord[] {
    return this.ordered.map((m) => ({ ...m }));
  }

  async seed(): Promise<void> {
    await this.write('seeding the model catalog', async (tx) => {
      for (const [pos, m] of MODEL_SEED.entries()) {
        await tx`INSERT INTO models (id, upstream_slug, display_name, owned_by, created, context_window, default_reasoning_effort, position)
                 VALUES (${m.id}, ${m.upstreamSlug}, ${m.displayName}, ${m.ownedBy}, ${m.created}, ${m.contextWindow}, ${m.defaultReasoningEffort}, ${pos})
                 ON CONFLICT (id) DO NOTHING`;
      }
    });
  }

  async setEnabled(id: string, enabled: boolean): Promise<ModelRecord | null> {
    await this.write('changing a model', async (tx) => {
      await tx`UPDATE models SET enabled = ${enabled ? 1 : 0} WHERE id = ${id}`;
    });
    return this.get(id);
  }

  async mergeCatalog(entries: CatalogEntry[], now = Date.now()): Promise<{ added: string[]; updated: string[] }> {
    const added: string[] = [];
    const updated: string[] = [];
    await this.write('merging the model catalog', async (tx) => {
      // Serialises concurrent merges (two instances refreshing at once) so positions stay unique.
      await tx`LOCK TABLE models IN SHARE ROW EXCLUSIVE MODE`;
      let pos = ((await tx`SELECT coalesce(max(position), -1)::int AS p FROM models`)[0] as { p: number }).p;
      for (const e of entries) {
        const result = await tx`UPDATE models SET display_name = ${e.displayName}, context_window = ${e.contextWindow}, default_reasoning_effort = ${e.defaultReasoningEffort} WHERE id = ${e.slug}`;
        if (result.count > 0) {
          updated.push(e.slug);
          continue;
        }
        await tx`INSERT INTO models (id, upstream_slug, display_name, owned_by, created, context_window, default_reasoning_effort, position)
                 VALUES (${e.slug}, ${e.slug}, ${e.displayName}, 'openai', ${Math.floor(now / 1000)}, ${e.contextWindow}, ${e.defaultReasoningEffort}, ${++pos})`;
        added.push(e.slug);
      }
    });
    return { added, updated };
  }
}
