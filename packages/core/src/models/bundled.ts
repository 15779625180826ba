import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { modelsDir } from '@lookalike/inference';
import { CoreError, CoreErrorCode } from '../errors.js';

/** A model folder under `models/`, as its model.json names it (the ONNX file is not read). */
export interface BundledModel {
  /** The manifest's id, e.g. `fashion-resnet`. */
  id: string;
  version: number;
  /** `${id}-v${version}`: the model key the database uses. */
  key: string;
  /** `embedder` unless the manifest says otherwise (e.g. `detector`). */
  kind: string;
  /** The model's directory. */
  dir: string;
}

/**
 * The bundled models: every folder of `dir` with a model.json giving an id and a version,
 * sorted by id then version. Folders without a readable manifest are left out. Reads only the
 * manifests' JSON, synchronously: a handful of small files, once at start-up.
 */
export function bundledModels(dir: string = modelsDir()): BundledModel[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
  const found: BundledModel[] = [];
  for (const name of entries) {
    const folder = path.join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
    } catch {
      continue;
    }
    if (typeof json !== 'object' || json === null) continue;
    const { id, version, kind } = json as Record<string, unknown>;
    if (
      typeof id !== 'string' ||
      id === '' ||
      !Number.isInteger(version) ||
      (version as number) < 1
    )
      continue;
    found.push({
      id,
      version: version as number,
      key: `${id}-v${String(version)}`,
      kind: typeof kind === 'string' ? kind : 'embedder',
      dir: folder,
    });
  }
  return found.sort((a, b) => (a.id === b.id ? a.version - b.version : a.id < b.id ? -1 : 1));
}

const unknownModel = (name: string, message: string) =>
  new CoreError(CoreErrorCode.BAD_USER_INPUT, message, { model: name });

/** A model name that is a path (a directory or a model.json), not a bundled name. */
export function isModelPath(name: string): boolean {
  return name.includes('/') || name.includes(path.sep) || name.endsWith('.json');
}

/** `fashion-resnet-v2` -> { id: 'fashion-resnet', version: 2 }; null when not a key. */
export function parseModelKey(key: string): { id: string; version: number } | null {
  const m = /^(.+)-v([1-9][0-9]*)$/.exec(key);
  return m ? { id: m[1] as string, version: Number(m[2]) } : null;
}

/** What the bundled embedders can be called: ids (newest version) and keys (that version). */
function describe(embedders: readonly BundledModel[]): string {
  if (embedders.length === 0) return 'none are bundled';
  const ids = [...new Set(embedders.map((m) => m.id))];
  return `bundled ids: ${ids.join(', ')} (the newest version); keys: ${embedders.map((m) => m.key).join(', ')} (exactly that version)`;
}

/**
 * The bundled embedding model a name means: a key (`fashion-resnet-v1`) is exactly that
 * version, an id (`fashion-resnet`) the newest bundled version of that id. An unknown name is a
 * BAD_USER_INPUT naming the bundled ids and keys.
 */
export function resolveBundled(name: string, dir: string = modelsDir()): BundledModel {
  const all = bundledModels(dir);
  const embedders = all.filter((m) => m.kind === 'embedder');
  const byKey = embedders.filter((m) => m.key === name);
  const byId = embedders.filter((m) => m.id === name);
  const chosen = byKey.length > 0 ? byKey : byId.filter((m) => m.version === byId.at(-1)?.version);
  if (chosen.length > 1) {
    throw unknownModel(
      name,
      `model ${name}: ${chosen[0]?.key ?? name} is bundled twice (${chosen.map((m) => m.dir).join(', ')}); remove one`,
    );
  }
  const found = chosen[0];
  if (found) return found;
  const other = all.find((m) => m.key === name || m.id === name);
  if (other) {
    throw unknownModel(
      name,
      `model ${name} is a ${other.kind} model, not an embedding model (${describe(embedders)})`,
    );
  }
  throw unknownModel(
    name,
    `unknown model ${name}: ${describe(embedders)}; or give a model directory or model.json path`,
  );
}

/**
 * Where a model name (MODELS) is: a directory or model.json path as given (resolved against
 * the working directory), or a bundled name (`resolveBundled`) under `dir`.
 */
export function modelLocation(name: string, dir: string = modelsDir()): string {
  return isModelPath(name) ? path.resolve(name) : resolveBundled(name, dir).dir;
}
