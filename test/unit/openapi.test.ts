import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { buildOpenApiDocument } from '../../api/openapi.js';
import { securitySchemes } from '../../api/openapi-common.js';
import { answersWithoutEnvelope } from '../../api/errors.js';

type Operation = {
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }>;
  security?: Record<string, string[]>[];
};

const methods = ['get', 'put', 'post', 'delete', 'patch'] as const;

function operations(document: ReturnType<typeof buildOpenApiDocument>): { method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    methods.flatMap((method) => {
      const operation = (item as Record<string, Operation | undefined>)[method];
      return operation ? [{ method, path, operation }] : [];
    }),
  );
}

describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument();

  it('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(document.openapi, '3.1.0');
    const result = await new Validator().validate(document as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('declares every path parameter, and only known security schemes', () => {
    const schemes = Object.keys(document.components?.securitySchemes ?? {});
    for (const { method, path, operation } of operations(document)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      assert.deepEqual(declared.sort(), inPath.sort(), `${method} ${path}`);
      for (const requirement of operation.security ?? []) {
        for (const scheme of Object.keys(requirement)) assert.ok(schemes.includes(scheme), `${method} ${path}: ${scheme}`);
      }
    }
  });

  it('answers every JSON response in the {success, error, data} envelope (bare for the families whose documents show bare bodies, errors as {error}), with a stable error code on every error', () => {
    for (const { method, path, operation } of operations(document)) {
      if (path === '/openapi.json') continue;
      assert.ok(operation.responses['500'], `${method} ${path} documents 500 INTERNAL_ERROR`);
      const bare = answersWithoutEnvelope(path);
      for (const [status, response] of Object.entries(operation.responses)) {
        const json = response.content?.['application/json']?.schema;
        if (!json) continue;
        const keys = Object.keys(json.properties ?? {});
        if (bare) assert.ok(Number(status) >= 400 ? keys.join() === 'error' : !keys.includes('success'), `${method} ${path} ${status}: ${keys.join()}`);
        else assert.deepEqual(keys, ['success', 'error', 'data'], `${method} ${path} ${status}`);
        if (Number(status) >= 400) {
          const error = json.properties!.error as { properties: { code: { enum?: string[]; const?: string } } };
          assert.ok(error.properties.code.enum ?? error.properties.code.const, `${method} ${path} ${status} names its codes`);
        }
      }
    }
  });

  it('documents the alarm submission as multipart with its images and the Max-Processing-Time header', () => {
    const submit = operations(document).find((o) => o.method === 'post' && o.path === '/api/v1/alarms')!.operation as Operation & {
      requestBody: { content: Record<string, { schema: { properties: Record<string, { type?: string; minItems?: number; items?: { format?: string } }>; required: string[] } }> };
    };
    const form = submit.requestBody.content['multipart/form-data']!.schema;
    assert.equal(form.properties.images?.type, 'array');
    assert.equal(form.properties.images?.items?.format, 'binary');
    assert.equal(form.properties.images?.minItems, 4);
    for (const field of ['group_id', 'site_id', 'zone_id', 'site_category', 'vendor_event_id', 'images']) assert.ok(form.required.includes(field), field);
    assert.ok(form.properties.webhook_secret);
    assert.ok(submit.parameters?.some((p) => p.in === 'header' && p.name === 'Max-Processing-Time'));
    assert.ok(submit.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'));
    assert.deepEqual(Object.keys(submit.responses).sort(), ['200', '202', '400', '401', '408', '413', '422', '429', '500', '503']);
  });

  it('offers the token in the query string on GET only', () => {
    for (const { method, path, operation } of operations(document)) {
      if (method === 'get') continue;
      assert.ok(!operation.security?.some((requirement) => securitySchemes.query in requirement), `${method} ${path}: security`);
      assert.ok(!operation.parameters?.some((p) => p.in === 'query' && p.name === 'token'), `${method} ${path}: ?token=`);
    }
  });

  it('documents the erasure of a job as a 204 without a body, owner only', () => {
    const erase = operations(document).find((o) => o.method === 'delete' && o.path === '/api/v1/jobs/{job_id}')?.operation;
    assert.ok(erase, 'DELETE /api/v1/jobs/{job_id} is documented');
    assert.deepEqual(Object.keys(erase.responses).sort(), ['204', '400', '401', '404', '500']);
    assert.equal(erase.responses['204']!.content, undefined);
    assert.ok(erase.security?.length);
  });
});
