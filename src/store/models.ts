/**
 * The model catalog served by /v1/models. Seeded with the models the ChatGPT Codex
 * backend accepts (research/chatgpt-upstream-protocol.md §3.3), newest first.
 *
 * Reads come from memory: the catalog is reloaded after each write and when another
 * process has committed (SQLite: PRAGMA data_version; PostgreSQL: NOTIFY), never read
 * per request.
 */
import type { Db } from './db';
import type { Awaitable } from './awaitable';

export interface ModelRecord {
  id: string;
  upstreamSlug: string;
  displayName: string;
  ownedBy: string;
  created: number;
  contextWindow: number;
  defaultReasoningEffort: string | null;
  enabled: boolean;
}

export interface ModelRow {
  id: string;
  upstream_slug: string;
  display_name: string;
  owned_by: string;
  created: number;
  context_window: number;
  default_reasoning_effort: string | null;
  enabled: number;
}

// `created` is the day the catalog entry was written, not an upstream fact: the backend publishes no dates.
export const MODEL_SEED: Omit<ModelRecord, 'enabled'>[] = [
  { id: 'gpt-5.5', upstreamSlug: 'gpt-5.5', displayName: 'GPT-5.5', ownedBy: 'openai', created: 1779667200, contextWindow: 272000, defaultReasoningEffort: 'medium' },
  { id: 'gpt-5.4', upstreamSlug: 'gpt-5.4', displayName: 'GPT-5.4', ownedBy: 'openai', created: 1772323200, contextWindow: 272000, defaultReasoningEffort: 'medium' },
  { id: 'gpt-5.4-mini', upstreamSlug: 'gpt-5.4-mini', displayName: 'GPT-5.4 mini', ownedBy: 'openai', created: 1772323200, contextWindow: 272000, defaultReasoningEffort: 'medium' },
  { id: 'gpt-5.3-codex-spark', upstreamSlug: 'gpt-5.3-codex-spark', displayName: 'GPT-5.3 Codex Spark', ownedBy: 'openai', created: 1769904000, contextWindow: 128000, defaultReasoningEffort: 'low' },
];

export function modelRecord(row: ModelRow): ModelRecord {
  return {
    id: row.id,
    upstreamSlug: row.upstream_slug,
    displayName: row.display_name,
    ownedBy: row.owned_by,
    created: row.created,
    contextWindow: row.context_window,
    defaultReasoningEffort: row.default_reasoning_effort,
    enabled: row.enabled === 1,
  };
}

export interface CatalogEntry {
  slug: string;
  displayName: string;
  contextWindow: number;
  defaultReasoningEffort: string | null;
}

export interface ModelStore {
  listEnabled(): ModelRecord[];
  get(id: string): ModelRecord | null;
  listAll(): ModelRecord[];
  /** Inserts the built-in catalog once; later edits by the operator are kept. */
  seed(): Awaitable<void>;
  setEnabled(id: string, enabled: boolean): Awaitable<ModelRecord | null>;
  /**
   * Merges the upstream's catalog: known models get fresh metadata, new ones are added
   * (enabled) after the existing ones. Models the upstream no longer lists are kept:
   * disabling is the operator's decision.
   */
  mergeCatalog(entries: CatalogEntry[], now?: number): Awaitable<{ added: string[]; updated: string[] }>;
}

export class SqliteModelStore implements ModelStore {
  private ordered: ModelRecord[] = [];
  private byId = new Map<string, ModelRecord>();
  private dataVersion = -1;

  constructor(private readonly db: Db) {
    this.reload();
  }

  private reload(): void {
    this.ordered = (this.db.query('SELECT * FROM models ORDER BY position, id').all() as ModelRow[]).map(modelRecord);
    this.byId = new Map(this.ordered.map((m) => [m.id, m]));
    this.dataVersion = this.currentDataVersion();
  }

  private currentDataVersion(): number {
    return (this.db.query('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  private fresh(): void {
    if (this.currentDataVersion() !== this.dataVersion) this.reload();
  }

  /** Inserts the built-in catalog once; later edits by the operator are kept. */
  seed(): void {
    const insert = this.db.query(
      `INSERT OR IGNORE INTO models (id, upstream_slug, display_name, owned_by, created, context_window, default_reasoning_effort, position)
       VALUES ($id, $slug, $name, $owner, $created, $ctx, $effort, $pos)`,
    );
    this.db.transaction(() => {
      MODEL_SEED.forEach((m, pos) =>
        insert.run({ id: m.id, slug: m.upstreamSlug, name: m.displayName, owner: m.ownedBy, created: m.created, ctx: m.contextWindow, effort: m.defaultReasoningEffort, pos }),
      );
    })();
    this.reload();
  }

  listEnabled(): ModelRecord[] {
    this.fresh();
    return this.ordered.filter((m) => m.enabled).map((m) => ({ ...m }));
  }

  get(id: string): ModelRecord | null {
    this.fresh();
    const model = this.byId.get(id);
    return model ? { ...model } : null;
  }

  listAll(): ModelRecord[] {
    this.fresh();
    return this.ordered.map((m) => ({ ...m }));
  }

  setEnabled(id: string, enabled: boolean): ModelRecord | null {
    this.db.query('UPDATE models SET enabled = $enabled WHERE id = $id').run({ id, enabled: enabled ? 1 : 0 });
    this.reload();
    return this.get(id);
  }

  /**
   * Merges the upstream's catalog: known models get fresh metadata, new ones are added
   * (enabled) after the existing ones. Models the upstream no longer lists are kept:
   * disabling is the operator's decision.
   */
  mergeCatalog(entries: CatalogEntry[], now = Date.now()): { added: string[]; updated: string[] } {
    const added: string[] = [];
    const updated: string[] = [];
    const maxPos = (this.db.query('SELECT coalesce(max(position), -1) AS p FROM models').get() as { p: number }).p;
    this.db.transaction(() => {
      let pos = maxPos;
      for (const e of entries) {
        const existing = this.db.query('SELECT id FROM models WHERE id = $id').get({ id: e.slug });
        if (existing) {
          this.db
            .query('UPDATE models SET display_name = $name, context_window = $ctx, default_reasoning_effort = $effort WHERE id = $id')
            .run({ id: e.slug, name: e.displayName, ctx: e.contextWindow, effort: e.defaultReasoningEffort });
          updated.push(e.slug);
        } else {
          this.db
            .query(
              `INSERT INTO models (id, upstream_slug, display_name, owned_by, created, context_window, default_reasoning_effort, position)
               VALUES ($id, $id, $name, 'openai', $created, $ctx, $effort, $pos)`,
            )
            .run({ id: e.slug, name: e.displayName, created: Math.floor(now / 1000), ctx: e.contextWindow, effort: e.defaultReasoningEffort, pos: ++pos });
          added.push(e.slug);
        }
      }
    })();
    this.reload();
    return { added, updated };
  }
}
