/**
 * Download a model that is too large to ship in git, and verify it.
 *
 *   npm run model:fetch -- resnet50-imagenet [more ids...] [--force]
 *
 * Reads the manifest (models/<id>/model.json), downloads `download.url` to `<file>.part`,
 * checks the byte count and sha256 published with the file (the manifest records where they
 * were read), and only then moves it into place. An existing file with the right hash is kept.
 * Needs internet; tests never run it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { loadManifest } from '@lookalike/inference';

async function fileSha256(file: string): Promise<string | null> {
  try {
    await stat(file);
  } catch {
    return null;
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function fetchModel(id: string, force: boolean): Promise<void> {
  const manifest = await loadManifest(id);
  const { download } = manifest;
  if (!download)
    throw new Error(
      `model ${manifest.key}: the manifest has no "download" section (bundled model?)`,
    );
  if (!force && (await fileSha256(manifest.modelPath)) === manifest.sha256) {
    console.log(`${manifest.key}: ${manifest.modelPath} is present and verified`);
    return;
  }
  console.log(
    `${manifest.key}: downloading ${download.url} (${(download.bytes / 2 ** 20).toFixed(1)} MiB)`,
  );
  const response = await fetch(download.url, { redirect: 'follow' });
  if (!response.ok || !response.body) {
    throw new Error(`model ${manifest.key}: ${download.url} answered HTTP ${response.status}`);
  }
  const part = `${manifest.modelPath}.part`;
  const hash = createHash('sha256');
  let received = 0;
  let lastReport = 0;
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    received += chunk.length;
    if (received - lastReport > 8 * 2 ** 20) {
      lastReport = received;
      process.stderr.write(`\r  ${((100 * received) / download.bytes).toFixed(0)}%`);
    }
  });
  try {
    await pipeline(body, createWriteStream(part));
    process.stderr.write('\n');
    const sha = hash.digest('hex');
    if (received !== download.bytes || sha !== download.sha256) {
      throw new Error(
        `model ${manifest.key}: downloaded ${received} bytes with sha256 ${sha}; expected ${download.bytes} bytes with sha256 ${download.sha256}. The file was not installed.`,
      );
    }
    if (sha !== manifest.sha256) {
      throw new Error(
        `model ${manifest.key}: the download's sha256 differs from the manifest's "sha256"`,
      );
    }
    await rename(part, manifest.modelPath);
    console.log(`${manifest.key}: verified sha256 ${sha}; saved ${manifest.modelPath}`);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

const args = process.argv.slice(2);
const force = args.includes('--force');
const ids = args.filter((a) => !a.startsWith('--'));
if (ids.length === 0) {
  console.error(
    'usage: npm run model:fetch -- <model id> [...] [--force]   (e.g. resnet50-imagenet)',
  );
  process.exit(2);
}
for (const id of ids) {
  try {
    await fetchModel(id, force);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
