import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorResponses } from '../openapi-common.js';
import { docsAssetsPath } from './routes.js';

/** `/openapi.json`, `/docs` and its assets in the OpenAPI document. */
export function registerDocsPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: ['Operations'],
    summary: 'This document (OpenAPI 3.1)',
    responses: {
      200: { description: 'The OpenAPI document, generated from the schemas that validate requests.', content: { 'application/json': { schema: z.object({}).loose() } } },
      ...errorResponses({}),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/docs',
    tags: ['Operations'],
    summary: 'Interactive API reference (Swagger UI)',
    responses: { 200: { description: 'The docs page.', content: { 'text/html': { schema: z.string() } } }, ...errorResponses({}) },
  });
  registry.registerPath({
    method: 'get',
    path: `${docsAssetsPath}/{file}`,
    tags: ['Operations'],
    summary: 'A script, style sheet or icon of the docs page',
    request: { params: z.object({ file: z.string().meta({ example: 'swagger-ui.css' }) }) },
    responses: {
      200: {
        description: 'The file.',
        content: { 'text/css': { schema: z.string() }, 'application/javascript': { schema: z.string() }, 'image/png': { schema: z.string().meta({ format: 'binary' }) } },
      },
      ...errorResponses({ 404: ['NOT_FOUND'] }),
    },
  });
}
