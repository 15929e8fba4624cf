import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { DownloadConfig } from '../../config/index.js';
import { sha256OfFile } from '../../downloads/verified-download.js';
import { installTemporalCli, releaseArchiveFor, TEMPORAL_CLI_VERSION, type TemporalCliArchive } from '../../temporal/cli.js';
import { collectingLogger, startDownloadServer, type DownloadServer } from '../support/download-server.js';

const execFileAsync = promisify(execFile);

describe('the Temporal CLI arrives without Go', () => {
  let scratch: string;
  let server: DownloadServer;
  let archive: TemporalCliArchive;
  let fakeGo: string;
  let binDir: string;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'vigil-temporal-cli-'));
    // A release archive laid out as Temporal's: `temporal` and LICENSE at the top.
    const contents = path.join(scratch, 'contents');
    await mkdir(contents);
    await writeFile(path.join(contents, 'temporal'), '#!/bin/sh\necho "temporal version 1.5.1 (downloaded)"\n', { mode: 0o755 });
    await writeFile(path.join(contents, 'LICENSE'), 'MIT\n');
    const fileName = 'temporal_cli_1.5.1_linux_amd64.tar.gz';
    await execFileAsync('tar', ['-czf', path.join(scratch, fileName), '-C', contents, 'temporal', 'LICENSE']);
    archive = { fileName, sha256: await sha256OfFile(path.join(scratch, fileName)), urls: ['http://127.0.0.1:9/never-asked'] };
    const archiveBytes = await readFile(path.join(scratch, fileName));
    server = await startDownloadServer((requestPath, response) => {
      if (requestPath === `/releases/${fileName}`) response.writeHead(200, { 'content-length': archiveBytes.length }).end(archiveBytes);
      else response.writeHead(404).end();
    });
    // Stands in for Go: `go install <module>` puts a `temporal` into $GOBIN.
    fakeGo = path.join(scratch, 'go');
    await writeFile(
      fakeGo,
      [
        '#!/bin/sh',
        `[ "$1 $2" = "install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}" ] || exit 3`,
        `printf '#!/bin/sh\\necho "temporal version 1.5.1 (built)"\\n' > "$GOBIN/temporal"`,
        'chmod +x "$GOBIN/temporal"',
        '',
      ].join('\n'),
    );
    await chmod(fakeGo, 0o755);
  });
  after(async () => {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  });
  beforeEach(async () => {
    binDir = await mkdtemp(path.join(scratch, 'bin-'));
    server.requests.length = 0;
  });

  const downloads: () => DownloadConfig = () => ({ offline: false, mirrors: [`${server.origin}/releases/`], idleTimeoutSeconds: 1 });
  const versionOf = async (binary: string) => (await execFileAsync(binary, ['--version'])).stdout.trim();

  it('names the pinned release archive of each platform', () => {
    const linux = releaseArchiveFor('linux', 'x64');
    assert.equal(linux?.fileName, 'temporal_cli_1.5.1_linux_amd64.tar.gz');
    assert.deepEqual(linux?.urls, ['https://github.com/temporalio/cli/releases/download/v1.5.1/temporal_cli_1.5.1_linux_amd64.tar.gz']);
    assert.match(linux?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(releaseArchiveFor('darwin', 'arm64')?.fileName, 'temporal_cli_1.5.1_darwin_arm64.tar.gz');
    assert.equal(releaseArchiveFor('win32', 'x64'), undefined);
  });

  it('downloads the archive, checks its sha256 and unpacks `temporal` alone into the folder', async () => {
    const { logger, messages } = collectingLogger();
    const binary = await installTemporalCli({ binDir, archive, downloads: downloads(), go: undefined, logger });
    assert.equal(binary, path.join(binDir, 'temporal'));
    assert.equal(await versionOf(binary), 'temporal version 1.5.1 (downloaded)');
    assert.deepEqual(await readdir(binDir), ['temporal']);
    assert.deepEqual(server.requests, [`/releases/${archive.fileName}`]);
    assert.ok(messages().includes(`no Temporal CLI found: downloading the ${TEMPORAL_CLI_VERSION} release into ${binDir}`));
  });

  it('a wrong checksum without Go stops with both ways spelled out and leaves nothing behind', async () => {
    const tampered = { ...archive, sha256: archive.sha256.replace(/^./, (digit) => (digit === '0' ? '1' : '0')) };
    await assert.rejects(installTemporalCli({ binDir, archive: tampered, downloads: downloads(), go: undefined, logger: collectingLogger().logger }), (error: Error) => {
      assert.match(error.message, /^No Temporal CLI found: .*sha256 [0-9a-f]{64}, expected [0-9a-f]{64}.*; there is no Go to build it with\./);
      assert.ok(error.message.includes(`download http://127.0.0.1:9/never-asked (sha256 ${tampered.sha256}) and unpack \`temporal\` from it into ${binDir}`));
      assert.ok(error.message.includes(`GOBIN=${binDir} go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`));
      return true;
    });
    assert.deepEqual(await readdir(binDir), []);
  });

  it('a failed download falls back to go install where Go is there', async () => {
    const { logger, messages } = collectingLogger();
    const binary = await installTemporalCli({ binDir, archive, downloads: { ...downloads(), mirrors: [`${server.origin}/gone/`] }, go: fakeGo, logger });
    assert.equal(await versionOf(binary), 'temporal version 1.5.1 (built)');
    assert.ok(messages().some((message) => message.includes('HTTP 404') && message.endsWith('building the Temporal CLI with Go instead')));
  });

  it('offline: downloads nothing; builds with Go where it is there, else says how to get the CLI', async () => {
    const offline = { ...downloads(), offline: true };
    await assert.rejects(
      installTemporalCli({ binDir, archive, downloads: offline, go: undefined, logger: collectingLogger().logger }),
      /No Temporal CLI found: VIGIL_OFFLINE=true forbids downloading it; there is no Go to build it with\. Either download /,
    );
    const binary = await installTemporalCli({ binDir, archive, downloads: offline, go: fakeGo, logger: collectingLogger().logger });
    assert.equal(await versionOf(binary), 'temporal version 1.5.1 (built)');
    assert.deepEqual(server.requests, []);
  });
});
