/**
 * OpenAPI document at /docs/json and Swagger UI at /docs. The UI's script and
 * stylesheet are embedded in the binary and served from /docs-assets, because
 * self-hosters often run CodexIn with no internet: the page must make no request
 * off the machine (validatorUrl is off for the same reason).
 */
import { Elysia } from 'elysia';
import { openapi } from '@elysiajs/openapi';
import swaggerBundlePath from '../../node_modules/swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' };
import swaggerCssPath from '../../node_modules/swagger-ui-dist/swagger-ui.css' with { type: 'file' };
import { VERSION } from '../version';

const ASSET_CACHE = 'public, max-age=86400';

export const docsPlugin = new Elysia({ name: 'codexin.docs' })
  .get('/docs-assets/swagger-ui-bundle.js', () =>
    new Response(Bun.file(swaggerBundlePath), { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': ASSET_CACHE } }),
    { detail: { hide: true } },
  )
  .get('/docs-assets/swagger-ui.css', () =>
    new Response(Bun.file(swaggerCssPath), { headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': ASSET_CACHE } }),
    { detail: { hide: true } },
  )
  .use(
    openapi({
      path: '/docs',
      specPath: '/docs/json',
      provider: 'swagger-ui',
      swagger: {
        cdn: '/docs-assets/swagger-ui-bundle.js',
        theme: '/docs-assets/swagger-ui.css',
        url: '/docs/json',
        validatorUrl: null,
        persistAuthorization: true,
      } as Record<string, unknown>,
      documentation: {
        info: {
          title: 'CodexIn',
          version: VERSION,
          description:
            'OpenAI-compatible API served from a ChatGPT/Codex subscription. Authorize with a `ci_...` key (Authorize button, bearer).',
        },
        tags: [
          { name: 'Models', description: 'The model catalog' },
          { name: 'Responses', description: 'OpenAI Responses API' },
          { name: 'Chat', description: 'OpenAI Chat Completions API, translated to Responses' },
          { name: 'Files', description: 'OpenAI Files API, stored on this server: needs an advanced key' },
          { name: 'Audio', description: 'Speech to text: needs an advanced key' },
          { name: 'Images', description: 'Image analysis (any key), generation and ChatGPT uploads (advanced key)' },
          { name: 'Admin', description: 'Operator API: needs an admin key' },
          { name: 'Health', description: 'Liveness and readiness' },
        ],
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A CodexIn API key (ci_...)' } },
        },
      },
    }),
  );
