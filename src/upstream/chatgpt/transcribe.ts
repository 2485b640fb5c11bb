/**
 * `POST /backend-api/transcribe` (protocol §5.2): multipart `file` (+ optional
 * `language`, `prompt`) → `{"text": "..."}`. The endpoint serves Codex Desktop's
 * dictation, so we present as that client (originator `Codex Desktop`).
 */
import { ApiError } from '../../openai/api-error';
import type { TranscriptionInput } from '../types';
import type { AccountSession } from './account-call';

export async function transcribeWithBackend(session: AccountSession, input: TranscriptionInput): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([input.bytes], { type: input.mime }), input.filename);
  if (input.language) form.append('language', input.language);
  if (input.prompt) form.append('prompt', input.prompt);
  const response = await session.request('/transcribe', { method: 'POST', form, headers: { originator: 'Codex Desktop' } });
  const body = (await response.json().catch(() => null)) as { text?: unknown } | null;
  if (!body || typeof body.text !== 'string') {
    throw new ApiError(502, 'upstream_error', 'The upstream transcription service sent an unreadable answer.', { code: 'upstream_error' });
  }
  return body.text;
}
