import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../logging/logger.js';

function collect() {
  const lines: string[] = [];
  return { lines, logger: createLogger('trace', 'test', { write: (line: string) => void lines.push(line) }) };
}

describe('the JSON logger', () => {
  it('writes one JSON line per entry with the role', () => {
    const { lines, logger } = collect();
    logger.child({ jobId: 'raw_acme_g_s_z_0123456789ab' }).info({ stage: 'detect' }, 'hello');
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual([line.role, line.jobId, line.stage, line.msg], ['test', 'raw_acme_g_s_z_0123456789ab', 'detect', 'hello']);
  });

  it('redacts tokens, secrets, keys and credential headers at the top and one level down', () => {
    const { lines, logger } = collect();
    const secrets = {
      token: 'vgl_top',
      secret: 'whsec_top',
      webhook_secret: 'whsec_form',
      webhookSecret: 'whsec_camel',
      apiKey: 'sk-camel',
      api_key: 'sk-snake',
      password: 'pw-top',
      authorization: 'Bearer vgl_auth',
      cookie: 'session=abc',
    };
    logger.info(
      {
        ...secrets,
        request: { token: 'vgl_nested', secret: 'whsec_nested', apiKey: 'sk-nested', password: 'pw-nested' },
        headers: { authorization: 'Bearer vgl_header', cookie: 'sid=1', 'x-api-key': 'sk-header' },
        upstream: { headers: { authorization: 'Bearer sk-upstream', 'x-api-key': 'sk-upstream-key' } },
      },
      'everything secret',
    );
    const text = lines.join('');
    for (const value of [...Object.values(secrets), 'vgl_nested', 'whsec_nested', 'sk-nested', 'pw-nested', 'vgl_header', 'sid=1', 'sk-header', 'sk-upstream']) {
      assert.ok(!text.includes(value), `${value} is redacted: ${text}`);
    }
    assert.match(text, /\[redacted\]/);
  });
});
