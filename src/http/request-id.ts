/**
 * Gives every request an id, echoed as `x-request-id` on every response (success or
 * error) so a user can quote it and an operator can find the log line.
 */
import { Elysia } from 'elysia';

export function newRequestId(): string {
  return 'req_' + Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex');
}

export const requestIdPlugin = new Elysia({ name: 'codexin.request-id' })
  .onRequest(({ set }) => {
    set.headers['x-request-id'] = newRequestId();
  })
  .derive({ as: 'global' }, ({ set }) => ({ requestId: String(set.headers['x-request-id']) }));
