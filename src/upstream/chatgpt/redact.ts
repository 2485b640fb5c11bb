/**
 * Text from the upstream that is about to reach a client: an upstream (or a proxy in
 * front of it) that echoes the request would otherwise hand the account's access
 * token to whoever made the request. Tokens go, and the rest is capped.
 */

export const MAX_UPSTREAM_TEXT_CHARS = 1000;

const SECRET_PATTERNS: [RegExp, string][] = [
  // Authorization values, whatever the token looks like.
  [/\b(bearer|basic)\s+[^\s"',;}]+/gi, '$1 [redacted]'],
  // JWTs (ChatGPT access and id tokens): three base64url segments, the first a JSON header.
  [/eyJ[\w-]*\.[\w-]+\.[\w-]*/g, '[redacted]'],
  // Long opaque tokens (refresh tokens, API keys): nothing legitimate in an error message looks like this.
  [/[A-Za-z0-9_-]{40,}/g, '[redacted]'],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
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
