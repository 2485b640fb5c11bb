/**
 * The ChatGPT backend's file service and transcription as an AssetsUpstream,
 * over the same account pool and token manager as the Responses adapter.
 */
import type { AssetsUpstream, AssetUpload, Transcript, TranscriptionInput, UploadedAsset, UpstreamCallContext } from '../types';
import { withAccount, type AccountCallDeps } from './account-call';
import { DEFAULT_UPLOAD_TIMING, uploadToFileService, type UploadTiming } from './files';
import { transcribeWithBackend } from './transcribe';

export class ChatGptAssets implements AssetsUpstream {
  readonly kind = 'chatgpt' as const;

  constructor(
    private readonly deps: AccountCallDeps,
    private readonly timing: UploadTiming = DEFAULT_UPLOAD_TIMING,
  ) {}

  uploadFile(file: AssetUpload, ctx: UpstreamCallContext): Promise<UploadedAsset> {
    return withAccount(this.deps, ctx, `assets:${ctx.keyId}`, async (session) => {
      const uploaded = await uploadToFileService(session, file, ctx.signal, this.timing);
      return { ...uploaded, accountId: session.account.id };
    });
  }

  transcribe(input: TranscriptionInput, ctx: UpstreamCallContext): Promise<Transcript> {
    return withAccount(this.deps, ctx, `assets:${ctx.keyId}`, async (session) => ({
      text: await transcribeWithBackend(session, input),
      accountId: session.account.id,
    }));
  }
}
