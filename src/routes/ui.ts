/**
 * The operator dashboard at /ui: a static page whose script and stylesheet are
 * bundled from src/ui by `bun src/ui/build.ts` (make does it) into dist/ui and
 * embedded in the binary like Swagger UI's, so it works with no internet.
 *
 * The page holds no secret: the operator types an admin key, the script keeps it in
 * sessionStorage and sends it as a bearer header to /admin/*. The CSP allows only
 * this origin and no inline script, so an injected string cannot run or phone home.
 */
import { Elysia } from 'elysia';
import appJsPath from '../../dist/ui/app.js' with { type: 'file' };
import appCssPath from '../../dist/ui/app.css' with { type: 'file' };

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

// The shell only: everything visible is rendered by the bundled script.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>CodexIn dashboard</title>
<link rel="stylesheet" href="/ui/assets/app.css">
<script type="module" src="/ui/assets/app.js"></script>
</head>
<body>
<noscript>The CodexIn dashboard needs JavaScript. The same data is in the admin API: see /docs.</noscript>
<div id="app"></div>
</body>
</html>
`;

const asset = (path: string, type: string) => () =>
  new Response(Bun.file(path), { headers: { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' } });

export const uiRoutes = new Elysia({ name: 'codexin.routes.ui' })
  .get('/ui', () => new Response(PAGE, { headers: PAGE_HEADERS }), { detail: { hide: true } })
  .get('/ui/', () => new Response(PAGE, { headers: PAGE_HEADERS }), { detail: { hide: true } })
  .get('/ui/assets/app.js', asset(appJsPath, 'text/javascript; charset=utf-8'), { detail: { hide: true } })
  .get('/ui/assets/app.css', asset(appCssPath, 'text/css; charset=utf-8'), { detail: { hide: true } });
