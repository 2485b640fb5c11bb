/**
 * Validators for the official OpenAI OpenAPI schemas (test/fixtures/openapi/README.md
 * says which version and commit). The document is OpenAPI 3.1, whose schemas are JSON
 * Schema 2020-12, so Ajv's 2020 dialect reads them as they are. Keywords that only
 * carry documentation or code-generation hints (`discriminator`, `x-*`, `deprecated`)
 * are ignored by running Ajv non-strict; the one custom format, `unixtime`, is checked.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SCHEMA_FILE = join(import.meta.dir, '..', 'fixtures', 'openapi', 'openai-2.3.0-schemas.json');

interface SpecFile {
  spec_version: string;
  commit: string;
  components: { schemas: Record<string, SchemaNode> };
}
type SchemaNode = { [key: string]: unknown };

const spec = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as SpecFile;
/** See withoutPendingUsage(): the one schema edit, a counter the API does not send made optional. */
const SPEC_PATCHES = (schemas: Record<string, SchemaNode>) => {
  const details = (schemas.ResponseUsage.properties as Record<string, SchemaNode>).input_tokens_details;
  details.required = (details.required as string[]).filter((name) => name !== 'cache_write_tokens');
};
SPEC_PATCHES(spec.components.schemas);

/**
 * A few schemas (CreateChatCompletionStreamResponse) still use OpenAPI 3.0's
 * `nullable: true`, which JSON Schema 2020-12 does not know: read it as the 3.0 spec
 * defines it, "this schema, or null".
 */
function openApi30Nullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(openApi30Nullable);
  if (typeof node !== 'object' || node === null) return node;
  const { nullable, ...rest } = node as SchemaNode;
  const converted = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, openApi30Nullable(v)]));
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}
spec.components.schemas = openApi30Nullable(spec.components.schemas) as Record<string, SchemaNode>;
export const SPEC_VERSION = spec.spec_version;

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isFinite(n) && n >= 0 });
ajv.addSchema({ $id: 'openai', components: spec.components });

const compiled = new Map<string, ValidateFunction>();
function validator(name: string): ValidateFunction {
  let fn = compiled.get(name);
  if (!fn) {
    if (!(name in spec.components.schemas)) throw new Error(`schema ${name} is not in ${SCHEMA_FILE}`);
    fn = ajv.compile({ $ref: `openai#/components/schemas/${name}` });
    compiled.set(name, fn);
  }
  return fn;
}

/** Stream event type → the name of its schema, read from the `ResponseStreamEvent` union. */
const EVENT_SCHEMAS: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  const union = spec.components.schemas.ResponseStreamEvent.anyOf as Array<{ $ref: string }>;
  for (const member of union) {
    const name = member.$ref.split('/').pop()!;
    const typeEnum = ((spec.components.schemas[name].properties as SchemaNode | undefined)?.type as { enum?: string[] } | undefined)?.enum;
    for (const type of typeEnum ?? []) map.set(type, name);
  }
  return map;
})();

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`);
}

/** The schema violations of `value` against the named component schema (empty when it conforms). */
export function violations(schemaName: string, value: unknown): string[] {
  const fn = validator(schemaName);
  return fn(value) ? [] : describe(fn.errors);
}

/**
 * The two places the API itself departs from its published schema, accepted here on
 * purpose (CodexIn answers like the API, which is what clients are built against):
 * - before a response ends, `response.usage` is `null` (recorded OpenAI streams show it
 *   on `response.created`; Open Responses' schema types it nullable), while the spec's
 *   `Response.usage` is a non-nullable object: such an event is checked without that null;
 * - `usage.input_tokens_details.cache_write_tokens`, required since spec 2.3.0, is absent
 *   from every recorded API response, and CodexIn does not invent the count (see SPEC_PATCHES).
 * Every other field is checked as it is.
 */
const UNFINISHED_LIFECYCLE = new Set(['response.created', 'response.in_progress', 'response.queued']);
function withoutPendingUsage(event: { type?: unknown; response?: unknown }): unknown {
  const response = event.response as Record<string, unknown> | undefined;
  if (!UNFINISHED_LIFECYCLE.has(String(event.type)) || !response || response.usage !== null) return event;
  const { usage: _pending, ...rest } = response;
  return { ...event, response: rest };
}

/**
 * A stream event's violations against the schema of its own type. An event type the
 * spec's `ResponseStreamEvent` union does not name is a violation in itself.
 */
export function eventViolations(given: { type?: unknown }): string[] {
  const name = typeof given.type === 'string' ? EVENT_SCHEMAS.get(given.type) : undefined;
  if (!name) return [`event type ${JSON.stringify(given.type)} is not a ResponseStreamEvent`];
  const event = withoutPendingUsage(given);
  // Also against the union itself, which is what a generated client decodes with.
  const own = violations(name, event);
  return own.length ? own.map((v) => `${name}: ${v}`) : violations('ResponseStreamEvent', event).map((v) => `ResponseStreamEvent: ${v}`);
}

/** Every violation in a list of events, each labelled with the event's position and type. */
export function streamViolations(events: Array<{ type?: unknown }>): string[] {
  return events.flatMap((event, i) => eventViolations(event).map((v) => `#${i} ${String(event.type)}: ${v}`));
}
