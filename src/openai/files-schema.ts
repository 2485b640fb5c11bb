/**
 * The OpenAI Files API shapes (FileObject, list, deletion) and the multipart
 * upload body, as TypeBox schemas for validation and the OpenAPI document.
 */
import { t } from 'elysia';
import { Type } from '@sinclair/typebox';
import type { FileRecord } from '../store/files';

export const FileObjectSchema = t.Object(
  {
    id: t.String({ examples: ['file-3Zk9pQw2bX7cV1nL0aR8sT4u'] }),
    object: t.Literal('file'),
    bytes: Type.Integer(),
    created_at: Type.Integer({ description: 'Unix seconds' }),
    filename: t.String(),
    purpose: t.String(),
    status: t.Literal('processed'),
    expires_at: t.Union([Type.Integer(), t.Null()]),
    status_details: t.Null(),
  },
  { description: 'OpenAI FileObject' },
);

export const FileListSchema = t.Object({
  object: t.Literal('list'),
  data: t.Array(FileObjectSchema),
  has_more: t.Boolean(),
  first_id: t.Union([t.String(), t.Null()]),
  last_id: t.Union([t.String(), t.Null()]),
});

export const FileDeletedSchema = t.Object({ id: t.String(), object: t.Literal('file'), deleted: t.Literal(true) });

export const FileUploadSchema = t.Object(
  {
    file: t.File({ description: 'The file (any type)' }),
    purpose: t.String({ description: 'assistants | batch | fine-tune | vision | user_data | evals' }),
    'expires_after[anchor]': t.Optional(t.String({ description: 'created_at' })),
    'expires_after[seconds]': t.Optional(t.String({ description: 'Lifetime in seconds (3600 to 2592000)' })),
  },
  { additionalProperties: true, example: { purpose: 'user_data' } },
);

export const FileListQuerySchema = t.Object({
  purpose: t.Optional(t.String()),
  // The range is checked by the route: Elysia's numeric coercion reports a range error without the field name.
  limit: t.Optional(t.Numeric({ description: 'Page size, 1 to 10000 (default 10000)' })),
  order: t.Optional(t.Union([t.Literal('asc'), t.Literal('desc')], { description: 'By creation time (default desc)' })),
  after: t.Optional(t.String({ description: 'Cursor: the last id of the previous page' })),
});

export type FileObject = (typeof FileObjectSchema)['static'];

export function toFileObject(record: FileRecord): FileObject {
  return {
    id: record.id,
    object: 'file',
    bytes: record.bytes,
    created_at: Math.floor(record.createdAt / 1000),
    filename: record.filename,
    purpose: record.purpose,
    status: 'processed',
    expires_at: record.expiresAt === null ? null : Math.floor(record.expiresAt / 1000),
    status_details: null,
  };
}
