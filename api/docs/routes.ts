import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from '@koa/router';
import { send } from '@koa/send';
import { notFound } from '../errors.js';

/** Swagger UI's files, served from the npm package: the docs page works without reaching any CDN. */
const swaggerUiDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const swaggerUiFiles: ReadonlySet<string> = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']);
const initializerFile = 'vigil-docs.js';

export const docsAssetsPath = '/docs/assets';

/** Swagger UI on our document; `validatorUrl: null` keeps it from sending the document to swagger.io. */
const initializer = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Vigil API</title>
  <link rel="icon" type="image/png" href="${docsAssetsPath}/favicon-32x32.png">
  <link rel="stylesheet" href="${docsAssetsPath}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${docsAssetsPath}/swagger-ui-bundle.js"></script>
  <script src="${docsAssetsPath}/${initializerFile}"></script>
</body>
</html>
`;

/** Scripts only from this origin; Swagger UI sets inline styles and draws icons from data: URLs. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
].join('; ');

/** `GET /openapi.json`, and the interactive reference on it at `GET /docs`. */
export function docsRoutes(document: object): Router {
  const router = new Router();
  const documentJson = JSON.stringify(document);

  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = documentJson;
  });

  router.get('/docs', (ctx) => {
    ctx.set('Content-Security-Policy', contentSecurityPolicy);
    ctx.type = 'html';
    ctx.body = page;
  });

  router.get(`${docsAssetsPath}/:file`, async (ctx) => {
    const { file } = ctx.params;
    if (file === initializerFile) {
      ctx.type = 'application/javascript';
      ctx.body = initializer;
      return;
    }
    if (!file || !swaggerUiFiles.has(file)) throw notFound('Asset');
    await send(ctx, file, { root: swaggerUiDir, maxage: 24 * 3600 * 1000 });
  });

  return router;
}
