/**
 * Text from an upstream (ChatGPT or OpenAI) that is about to reach a client: an upstream (or a proxy in
 * front of it) that echoes the request would otherwise hand the account's access
 * token to whoever made the request. Tokens go, and the rest is capped.
 */

export const MAX_UPSTREAM_TEXT_CHARS = 1000;

const SECRET_PATTERNS: [RegExp, string][] = [
  // Authorization values, whatever the token looks like.
  [/\b(bearer|basic)\s+[^\s"',;}]+/gi, '$1 [redacted]'],
  // JWTs (ChatGPT access and id tokens): three base64url segments, the first a JSON header.
  [/eyJ[\w-]*\.[\w-]+\.[\w-]*/g, '[redacted]'],
];

// Long opaque tokens (refresh tokens, API keys): 40+ characters mixing letters and digits.
const OPAQUE_TOKEN = /[A-Za-z0-9_-]{40,}/g;
// Object ids the upstream names in its own errors ("No item with id 'rs_...'") stay readable.
const PUBLIC_ID = /^(resp|msg|rs|fc|call|ctc|ig|ws|cmp|req)_|^file[-_]/;

function looksLikeToken(run: string): boolean {
  return /[0-9]/.test(run) && /[A-Za-z]/.test(run) && !PUBLIC_ID.test(run);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out.replace(OPAQUE_TOKEN, (run) => (looksLikeToken(run) ? '[redacted]' : run));
}

/** Upstream-sourced text made fit for a client: secrets redacted, at most `maxChars`. */
export function clientSafeText(text: string, maxChars = MAX_UPSTREAM_TEXT_CHARS): string {
  // Cap before and after: the patterns are linear, but there is no reason to scan megabytes.
  const redacted = redactSecrets(text.length > maxChars * 4 ? text.slice(0, maxChars * 4) : text);
  return redacted.length > maxChars ? `${redacted.slice(0, maxChars)}… (truncated)` : redacted;
}

/** Extra upstream error fields kept for the client (resets_at, plan_type...): primitives only, strings made safe. */
export function clientSafeFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields).slice(0, 20)) {
    if (typeof value === 'string') out[name.slice(0, 100)] = clientSafeText(value, 200);
    else if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[name.slice(0, 100)] = value;
  }
  return out;
}

type EventObject = Record<string, unknown>;

function safeMessageIn(holder: unknown): unknown {
  if (!holder || typeof holder !== 'object' || Array.isArray(holder)) return holder;
  const message = (holder as EventObject).message;
  return typeof message === 'string' ? { ...(holder as EventObject), message: clientSafeText(message) } : holder;
}

/**
 * The error text inside an upstream stream event (`error`, `response.failed`,
 * `response.incomplete`) made client-safe; every other event is returned as is.
 */
export function clientSafeEvent<E extends EventObject>(event: E): E {
  const type = event.type;
  if (type === 'error') {
    const out: EventObject = safeMessageIn(event) as EventObject;
    return ('error' in out ? { ...out, error: safeMessageIn(out.error) } : out) as E;
  }
  if ((type === 'response.failed' || type === 'response.incomplete') && event.response && typeof event.response === 'object') {
    const response = event.response as EventObject;
    if (response.error && typeof response.error === 'object') return { ...event, response: { ...response, error: safeMessageIn(response.error) } };
  }
  return event;
}

/** Upstream error bodies worth reading: a real one is a few hundred bytes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The start of an error response's body, never more than MAX_ERROR_BODY_BYTES in memory. */
export async function errorBodyText(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk);
      total += chunk.byteLength;
      if (total >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // A body cut off mid-way still tells what it had.
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES));
}
