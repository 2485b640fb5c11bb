/** GET /v1/models and /v1/models/{id} from the models table. */
import { Elysia, t } from 'elysia';
import { ApiError } from '../openai/api-error';
import { ModelListSchema, ModelSchema, ErrorEnvelopeSchema, authErrorResponses } from '../openai/schemas';
import type { ModelRecord, ModelStore } from '../store/models';
import type { authPlugin } from '../http/auth';

// In simulator mode the catalog says so, so nobody mistakes canned replies for a model's.
const SIMULATED_OWNER = 'codexin-simulator';

export function modelsRoutes(auth: ReturnType<typeof authPlugin>, models: ModelStore, simulated = false) {
  const toWire = (m: ModelRecord) => ({
    id: m.id,
    object: 'model' as const,
    created: m.created,
    owned_by: simulated ? SIMULATED_OWNER : m.ownedBy,
    context_window: m.contextWindow,
  });
  return new Elysia({ name: 'codexin.routes.models', detail: { tags: ['Models'] } })
    .use(auth)
    .get('/v1/models', () => ({ object: 'list' as const, data: models.listEnabled().map(toWire) }), {
      auth: 'any',
      response: { 200: ModelListSchema, ...authErrorResponses },
      detail: { summary: 'List models', description: 'The models this server offers, newest first.' },
    })
    .get(
      '/v1/models/:id',
      ({ params }) => {
        const model = models.get(params.id);
        if (!model || !model.enabled) {
          throw new ApiError(404, 'invalid_request_error', `The model '${params.id}' does not exist; GET /v1/models lists the available ones.`, {
            param: 'model',
            code: 'model_not_found',
          });
        }
        return toWire(model);
      },
      {
        auth: 'any',
        params: t.Object({ id: t.String() }),
        response: { 200: ModelSchema, 404: ErrorEnvelopeSchema, ...authErrorResponses },
        detail: { summary: 'Retrieve a model' },
      },
    );
}
