/**
 * The ChatGPT file service's three-step upload (protocol §5.1):
 * `POST /files` → `PUT <upload_url>` (an Azure blob URL, no auth) → `POST /files/<id>/uploaded`,
 * polled every 250 ms while it answers `retry`, for up to 30 s.
 */
import { ApiError } from '../../openai/api-error';
import type { AssetUpload } from '../types';
import { cancelled, type AccountSession } from './account-call';
import { clientSafeText } from '../client-safe';

export interface UploadTiming {
  pollIntervalMs: number;
  pollTimeoutMs: number;
}

export const DEFAULT_UPLOAD_TIMING: UploadTiming = { pollIntervalMs: 250, pollTimeoutMs: 30_000 };

export interface FileServiceUpload {
  fileId: string;
  downloadUrl: string | null;
  fileName: string;
  mimeType: string | null;
}

function unreadable(step: string): ApiError {
  return new ApiError(502, 'upstream_error', `The upstream file service sent an unreadable answer to ${step}.`, { code: 'upstream_error' });
}

async function jsonOf(response: Response, step: string): Promise<Record<string, unknown>> {
  const body: unknown = await response.json().catch(() => null);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw unreadable(step);
  return body as Record<string, unknown>;
}

export async function uploadToFileService(session: AccountSession, file: AssetUpload, signal: AbortSignal, timing: UploadTiming = DEFAULT_UPLOAD_TIMING): Promise<FileServiceUpload> {
  const created = await jsonOf(
    await session.request('/files', { method: 'POST', json: { file_name: file.filename, file_size: file.bytes.length, use_case: 'codex' } }),
    'the file creation',
  );
  const fileId = created.file_id;
  const uploadUrl = created.upload_url;
  if (typeof fileId !== 'string' || typeof uploadUrl !== 'string' || !/^https?:\/\//.test(uploadUrl)) throw unreadable('the file creation');

  let put: Response;
  try {
    put = await session.fetchImpl(uploadUrl, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': file.mime, 'content-length': String(file.bytes.length) },
      body: file.bytes,
      signal,
    });
  } catch {
    if (signal.aborted) throw cancelled();
    throw new ApiError(502, 'upstream_error', 'The upstream blob store could not be reached; retry shortly.', { code: 'upstream_unreachable' });
  }
  await put.body?.cancel();
  if (!put.ok) throw new ApiError(502, 'upstream_error', `The upstream blob store refused the upload (HTTP ${put.status}); retry shortly.`, { code: 'upstream_upload_failed' });

  const deadline = Date.now() + timing.pollTimeoutMs;
  for (;;) {
    const status = await jsonOf(await session.request(`/files/${encodeURIComponent(fileId)}/uploaded`, { method: 'POST', json: {} }), 'the upload confirmation');
    if (status.status === 'success') {
      return {
        fileId,
        downloadUrl: typeof status.download_url === 'string' ? status.download_url : null,
        fileName: typeof status.file_name === 'string' ? status.file_name : file.filename,
        mimeType: typeof status.mime_type === 'string' ? status.mime_type : null,
      };
    }
    if (status.status !== 'retry') {
      const reason = clientSafeText(typeof status.error_message === 'string' ? status.error_message : `status "${String(status.status)}"`);
      throw new ApiError(502, 'upstream_error', `The upstream file service could not process the file: ${reason}`, { code: 'upstream_upload_failed' });
    }
    if (Date.now() + timing.pollIntervalMs > deadline) {
      throw new ApiError(504, 'upstream_error', `The upstream file service was still processing the file after ${timing.pollTimeoutMs / 1000} s; retry later.`, {
        code: 'upstream_timeout',
      });
    }
    await Bun.sleep(timing.pollIntervalMs);
    if (signal.aborted) throw cancelled();
  }
}
