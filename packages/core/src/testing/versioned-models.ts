import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { modelsDir } from '@lookalike/inference';

/**
 * A models directory holding several versions of one model, as an installation sees a new
 * version arrive: `<id>/` is version 1 and `<id>-v<n>/` version n, each a copy of a bundled
 * model (default the 48-d colour thumbnail: tiny and fast) with its manifest's id and version
 * rewritten. Same weights, different keys: `<id>-v1`, `<id>-v2`. Returns each version's folder.
 */
export async function writeVersionedModels(
  dir: string,
  {
    id = 'test-thumb',
    versions = [1, 2],
    from = path.join(modelsDir(), 'colour-thumbnail'),
  }: { id?: string; versions?: number[]; from?: string } = {},
): Promise<Map<number, string>> {
  const manifest = JSON.parse(await readFile(path.join(from, 'model.json'), 'utf8')) as {
    file: string;
  } & Record<string, unknown>;
  const folders = new Map<number, string>();
  for (const version of versions) {
    const folder = path.join(dir, version === 1 ? id : `${id}-v${version}`);
    await mkdir(folder, { recursive: true });
    await writeFile(
      path.join(folder, 'model.json'),
      JSON.stringify({ ...manifest, id, version }, null, 2),
    );
    await copyFile(path.join(from, manifest.file), path.join(folder, manifest.file));
    folders.set(version, folder);
  }
  return folders;
}
