import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type DownloadConfig } from '../../config/index.js';
import { sha256OfFile } from '../../downloads/verified-download.js';
import { configuredModels, ensureModelFiles, ModelFileMismatchError, ModelFileMissingError } from '../../gpu-worker/model-files.js';
import { modelManifest } from '../../gpu-worker/model-manifest.js';
import { collectingLogger, startDownloadServer, type DownloadServer } from '../support/download-server.js';
import { modelsDir as sharedModelsDir } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

/** Serves the real model files from the shared folder, whole or spoiled, by the first part of the path. */
async function answer(requestPath: string, response: ServerResponse): Promise<void> {
  const [, behaviour, fileName = ''] = requestPath.split('/');
  const bytes = await readFile(path.join(sharedModelsDir, path.basename(fileName))).catch(() => null);
  if (bytes === null || behaviour === 'missing') {
    response.writeHead(404).end('not found');
    return;
  }
  const half = bytes.subarray(0, bytes.length >> 1);
  switch (behaviour) {
    case 'good':
      response.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      return;
    case 'redirect':
      response.writeHead(302, { location: `/good/${fileName}` }).end();
      return;
    case 'corrupt': {
      const corrupt = Buffer.from(bytes);
      corrupt[corrupt.length >> 1]! ^= 0xff;
      response.writeHead(200, { 'content-length': corrupt.length }).end(corrupt);
      return;
    }
    case 'short':
      response.writeHead(200, { 'content-length': half.length }).end(half);
      return;
    case 'truncated':
      // Chunked: no length announced, so only the bytes that arrive can tell.
      response.writeHead(200).end(half);
      return;
    case 'cut':
      // Announces the whole file, then the connection drops halfway.
      response.writeHead(200, { 'content-length': bytes.length });
      response.write(half, () => response.destroy());
      return;
    case 'stalled':
      response.writeHead(200, { 'content-length': bytes.length });
      response.write(half);
      return;
    case 'slow':
      // Alive but slow: ten parts a quarter of a second apart.
      response.writeHead(200, { 'content-length': bytes.length });
      for (let part = 0; part < 10; part++) {
        if (response.destroyed) return;
        response.write(bytes.subarray(Math.floor((part * bytes.length) / 10), Math.floor(((part + 1) * bytes.length) / 10)));
        await sleep(250);
      }
      response.end();
      return;
    default:
      response.writeHead(404).end();
  }
}

describe('models arrive by themselves, verified', () => {
  let server: DownloadServer;
  let modelsDir: string;
  const downloadsVia = (...behaviours: string[]): DownloadConfig => ({
    offline: false,
    mirrors: behaviours.map((behaviour) => `${server.origin}/${behaviour}/`),
    idleTimeoutSeconds: 1,
  });
  const yunet = modelManifest.yunet_n_dynamic_face;

  before(async () => {
    server = await startDownloadServer(answer);
  });
  after(() => server.close());
  beforeEach(async () => {
    modelsDir = await mkdtemp(path.join(tmpdir(), 'vigil-models-'));
    server.requests.length = 0;
  });
  afterEach(() => rm(modelsDir, { recursive: true, force: true }));

  it('downloads the configured models through a redirect, checks them and says which licence applies', async () => {
    const { logger, messages } = collectingLogger();
    const models = configuredModels(loadConfig({}));
    assert.deepEqual(models, ['yolox_nano_416_coco', 'picodet_s_416_coco', 'mobilenetv2_12_int8_imagenet']);
    await ensureModelFiles(models, { modelsDir, downloads: downloadsVia('redirect'), logger });
    assert.deepEqual((await readdir(modelsDir)).sort(), ['mobilenetv2_12_int8_imagenet.onnx', 'picodet_s_416_coco.onnx', 'yolox_nano_416_coco.onnx']);
    for (const model of models) {
      assert.equal(await sha256OfFile(path.join(modelsDir, modelManifest[model].fileName)), modelManifest[model].sha256);
      assert.ok(messages().some((message) => message.includes(model) && message.includes('licence Apache-2.0')));
    }
    assert.deepEqual(server.requests, [
      '/redirect/yolox_nano_416_coco.onnx',
      '/good/yolox_nano_416_coco.onnx',
      '/redirect/picodet_s_416_coco.onnx',
      '/good/picodet_s_416_coco.onnx',
      '/redirect/mobilenetv2_12_int8_imagenet.onnx',
      '/good/mobilenetv2_12_int8_imagenet.onnx',
    ]);
  });

  it('refuses a file whose sha256 differs, leaves nothing in MODELS_DIR and says how to place it by hand', async () => {
    await assert.rejects(ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads: downloadsVia('corrupt'), logger: collectingLogger().logger }), (error) => {
      assert.ok(error instanceof ModelFileMissingError);
      assert.ok(error.message.includes(`${server.origin}/corrupt/yunet_n_dynamic_face.onnx (sha256 `));
      assert.ok(error.message.includes(`Place yunet_n_dynamic_face.onnx (322906 bytes, sha256 ${yunet.sha256}) in ${modelsDir}`));
      return true;
    });
    assert.deepEqual(await readdir(modelsDir), []);
  });

  it('refuses a truncated file and a connection cut halfway, leaving nothing behind', async () => {
    await assert.rejects(
      ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads: downloadsVia('short', 'truncated', 'cut'), logger: collectingLogger().logger }),
      (error) => {
        assert.ok(error instanceof ModelFileMissingError);
        assert.match(error.message, /short\/yunet_n_dynamic_face\.onnx \(the server offers 161453 bytes, expected 322906\)/);
        assert.match(error.message, /truncated\/yunet_n_dynamic_face\.onnx \(got 161453 bytes, expected 322906\)/);
        assert.match(error.message, /cut\/yunet_n_dynamic_face\.onnx \([^)]+\)/);
        return true;
      },
    );
    assert.deepEqual(await readdir(modelsDir), []);
  });

  it('tries the next URL after a 404 and after one that stalls', async () => {
    const { logger, messages } = collectingLogger();
    const downloads = { ...downloadsVia('missing', 'stalled', 'good'), idleTimeoutSeconds: 0.3 };
    await ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads, logger });
    assert.deepEqual(await readdir(modelsDir), ['yunet_n_dynamic_face.onnx']);
    assert.deepEqual(
      messages().filter((message) => message.includes('failed')),
      [
        `yunet_n_dynamic_face.onnx from ${server.origin}/missing/yunet_n_dynamic_face.onnx failed: HTTP 404`,
        `yunet_n_dynamic_face.onnx from ${server.origin}/stalled/yunet_n_dynamic_face.onnx failed: nothing received for 0.3 s`,
      ],
    );
  });

  it('keeps a slow download that is still receiving, with progress lines', async () => {
    const { logger, messages } = collectingLogger();
    await ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads: downloadsVia('slow'), logger });
    assert.equal(await sha256OfFile(path.join(modelsDir, yunet.fileName)), yunet.sha256);
    assert.ok(messages().some((message) => /^yunet_n_dynamic_face\.onnx: 0\.\d MB of 0\.3 MB \(\d+%\)$/.test(message)), messages().join('\n'));
  });

  it('offline: downloads nothing and says how to place the model by hand', async () => {
    await assert.rejects(
      ensureModelFiles(['yolox_nano_416_coco'], { modelsDir, downloads: { ...downloadsVia('good'), offline: true }, logger: collectingLogger().logger }),
      (error) => {
        assert.ok(error instanceof ModelFileMissingError);
        assert.match(error.message, /VIGIL_OFFLINE=true forbids downloading it/);
        assert.ok(error.message.includes(`sha256 ${modelManifest.yolox_nano_416_coco.sha256}) in ${modelsDir}`));
        assert.ok(error.message.includes(modelManifest.yolox_nano_416_coco.urls[0]!));
        return true;
      },
    );
    assert.deepEqual(server.requests, []);
  });

  it('a second start downloads nothing, online or offline', async () => {
    const { logger } = collectingLogger();
    await ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads: downloadsVia('good'), logger });
    assert.equal(server.requests.length, 1);
    await ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads: downloadsVia('good'), logger });
    await ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads: { ...downloadsVia('good'), offline: true }, logger });
    assert.equal(server.requests.length, 1);
  });

  it('a file in MODELS_DIR that is not the model stops the start and is left alone', async () => {
    const modelPath = path.join(modelsDir, yunet.fileName);
    await writeFile(modelPath, 'not a model');
    await assert.rejects(ensureModelFiles(['yunet_n_dynamic_face'], { modelsDir, downloads: downloadsVia('good'), logger: collectingLogger().logger }), (error) => {
      assert.ok(error instanceof ModelFileMismatchError);
      assert.match(error.message, /it has 11 bytes, expected 322906/);
      return true;
    });
    assert.equal(await readFile(modelPath, 'utf8'), 'not a model');
    assert.deepEqual(server.requests, []);
  });

  it('MODELS_DIR=../shared/models: every model there is verified and nothing is downloaded', async () => {
    await ensureModelFiles(Object.keys(modelManifest) as (keyof typeof modelManifest)[], {
      modelsDir: sharedModelsDir,
      downloads: downloadsVia('good'),
      logger: collectingLogger().logger,
    });
    assert.deepEqual(server.requests, []);
  });

  it('an interrupted download removes its temporary file', async () => {
    const interrupt = new AbortController();
    const download = ensureModelFiles(['yunet_n_dynamic_face'], {
      modelsDir,
      downloads: { ...downloadsVia('stalled'), idleTimeoutSeconds: 30 },
      logger: collectingLogger().logger,
      signal: interrupt.signal,
    });
    await waitFor('the download to write its temporary file', async () => (await readdir(modelsDir)).length > 0, 10_000, 10);
    interrupt.abort(new Error('interrupted by SIGINT'));
    await assert.rejects(download, /interrupted by SIGINT/);
    assert.deepEqual(await readdir(modelsDir), []);
  });
});
