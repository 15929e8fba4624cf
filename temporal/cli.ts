import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Config, DownloadConfig } from '../config/index.js';
import { buildWithGo, findOnPath, isExecutable } from '../downloads/go-install.js';
import { downloadUrls, downloadVerified, type ExpectedFile } from '../downloads/verified-download.js';

const execFileAsync = promisify(execFile);

/** Newest CLI release whose module has no replace directive, so `go install` works (.ci/run builds the same one). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolsBinDir = path.join(repoRoot, '.tools', 'bin');

/** A release archive of the CLI: a tar.gz holding `temporal` (and its LICENSE) at the top. */
export interface TemporalCliArchive extends ExpectedFile {
  /** Tried in order. */
  urls: readonly string[];
}

/** sha256 of the TEMPORAL_CLI_VERSION release archive for each platform Temporal publishes one for (and tar unpacks). */
const releaseArchiveSha256: Record<string, string> = {
  linux_amd64: 'ddc95e08b0b076efd4ea9733a3f488eb7d2be875f8834e616cd2a37358b4852d',
  linux_arm64: 'bd1b0db9f18b051026de8bf6cc1505f2510f14bbb7a8b9a4a91fff46c77454f5',
  darwin_amd64: 'bbb73e2a31135abe50a1f1cdb35030c42961df618e8ce9c60ae89f201540c5d9',
  darwin_arm64: 'cca01b7ea35ad56e2a328d9ae596bf716bd22313ef63c7a761c88354457c2415',
};

/** The release archive for this platform and CPU (Node's names), or undefined where there is none to use. */
export function releaseArchiveFor(platform: string, arch: string): TemporalCliArchive | undefined {
  const goArch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string | undefined>)[arch];
  const sha256 = releaseArchiveSha256[`${platform}_${goArch}`];
  if (sha256 === undefined) return undefined;
  const fileName = `temporal_cli_${TEMPORAL_CLI_VERSION.slice(1)}_${platform}_${goArch}.tar.gz`;
  return { fileName, sha256, urls: [`https://github.com/temporalio/cli/releases/download/${TEMPORAL_CLI_VERSION}/${fileName}`] };
}

/** Both ways to get the CLI, after the reasons neither happened by itself. */
function installHelp(binDir: string, archive: TemporalCliArchive | undefined, problems: string[]): string {
  const download = archive
    ? `download ${archive.urls[0]} (sha256 ${archive.sha256}) and unpack \`temporal\` from it into ${binDir}`
    : `install the Temporal CLI ${TEMPORAL_CLI_VERSION} (https://docs.temporal.io/cli)`;
  return (
    `No Temporal CLI found: ${problems.join('; ')}. Either ${download} (or put \`temporal\` on PATH, or set ` +
    `TEMPORAL_CLI_PATH to it), or install Go (https://go.dev/dl/) and start again: Vigil then builds it once into ` +
    `${binDir} with \`GOBIN=${binDir} go install ${TEMPORAL_CLI_MODULE}\`.`
  );
}

async function buildTemporalCli(go: string, binDir: string, logger: Logger): Promise<string> {
  logger.info(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${binDir} with go install (once; takes a few minutes)`);
  return buildWithGo({ go, module: TEMPORAL_CLI_MODULE, binary: 'temporal', binDir, logger });
}

/** Downloads and checks the release archive, then unpacks `temporal` into binDir. */
async function downloadTemporalCli(archive: TemporalCliArchive, options: InstallTemporalCliOptions): Promise<string> {
  const { binDir, downloads, logger, signal } = options;
  await mkdir(binDir, { recursive: true });
  // Unpacked beside its destination, so the last step is an atomic rename and a failure leaves nothing in binDir.
  const workDir = await mkdtemp(path.join(binDir, '.temporal-download-'));
  try {
    const archivePath = path.join(workDir, archive.fileName);
    const urls = downloadUrls(archive.fileName, archive.urls, downloads);
    await downloadVerified(archive, { urls, destination: archivePath, idleTimeoutSeconds: downloads.idleTimeoutSeconds, logger, signal });
    await execFileAsync('tar', ['-xzf', archivePath, '-C', workDir, 'temporal']);
    const binary = path.join(binDir, 'temporal');
    await chmod(path.join(workDir, 'temporal'), 0o755);
    await rename(path.join(workDir, 'temporal'), binary);
    logger.info(`installed the Temporal CLI ${TEMPORAL_CLI_VERSION} as ${binary}`);
    return binary;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

export interface InstallTemporalCliOptions {
  binDir: string;
  /** undefined: Temporal publishes no archive for this platform. */
  archive: TemporalCliArchive | undefined;
  downloads: DownloadConfig;
  /** The `go` executable, if there is one. */
  go: string | undefined;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Puts `temporal` into binDir: the release archive downloaded and checked against its pinned sha256, else
 * (offline, no archive for the platform, or the download failed) built with `go install` where Go is there.
 * Throws with both ways spelled out when neither works.
 */
export async function installTemporalCli(options: InstallTemporalCliOptions): Promise<string> {
  const { binDir, archive, downloads, go, logger, signal } = options;
  const problems: string[] = [];
  if (downloads.offline) problems.push('VIGIL_OFFLINE=true forbids downloading it');
  else if (archive === undefined) problems.push(`Temporal publishes no archive Vigil can use for ${process.platform} ${process.arch}`);
  else {
    logger.info(`no Temporal CLI found: downloading the ${TEMPORAL_CLI_VERSION} release into ${binDir}`);
    try {
      return await downloadTemporalCli(archive, options);
    } catch (error) {
      if (signal?.aborted) throw error;
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (go === undefined) throw new Error(installHelp(binDir, archive, [...problems, 'there is no Go to build it with']));
  logger.warn(`${problems.join('; ')}: building the Temporal CLI with Go instead`);
  try {
    return await buildTemporalCli(go, binDir, logger);
  } catch (error) {
    throw new Error(installHelp(binDir, archive, [...problems, error instanceof Error ? error.message : String(error)]), { cause: error });
  }
}

/**
 * Locates the Temporal CLI: TEMPORAL_CLI_PATH, `temporal` on PATH, `<repo>/.tools/bin/temporal`, or installs it
 * there (see installTemporalCli). Throws with installation instructions when none of these is possible.
 */
export async function findTemporalCli(config: Config, logger: Logger, signal?: AbortSignal): Promise<string> {
  const configured = config.temporal.cliPath;
  if (configured !== undefined) {
    const resolved = path.resolve(configured);
    // An explicit setting that is wrong is an error, not a reason to pick some other binary.
    if (!(await isExecutable(resolved))) throw new Error(`TEMPORAL_CLI_PATH=${configured} is not an executable file.`);
    return resolved;
  }
  const onPath = await findOnPath('temporal');
  if (onPath !== undefined) return onPath;
  const installed = path.join(toolsBinDir, 'temporal');
  if (await isExecutable(installed)) return installed;
  return installTemporalCli({
    binDir: toolsBinDir,
    archive: releaseArchiveFor(process.platform, process.arch),
    downloads: config.downloads,
    go: await findOnPath('go'),
    logger,
    signal,
  });
}
