// Run in a runtime image right after `npm ci --omit=dev` (the apps' Dockerfiles): removes what
// production never loads.
//
// 1. Packages npm keeps only because a production package names them as optional peers: the
//    lockfile marks them "devOptional" (the Prisma CLI with Prisma Studio and its charts,
//    TypeScript, and what those need). `--omit=dev` keeps them, and `--omit=optional` would drop
//    sharp's platform binaries too, which are optional dependencies proper.
// 2. onnxruntime-node's native binaries for the platforms this image is not (it ships darwin,
//    win32, and linux arm64 and x64).
//
// Usage: node prune-runtime.mjs [root]   (root: where package-lock.json and node_modules are)
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** Bytes under `p`, links not followed. */
function size(p) {
  const s = statSync(p, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((n, name) => n + size(path.join(p, name)), 0);
}

/**
 * What goes, as paths relative to `root`: the devOptional packages installed, and the
 * onnxruntime-node binary folders of other platforms and architectures.
 */
export function prunable(root, platform = process.platform, arch = process.arch) {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const out = Object.entries(lock.packages ?? {})
    .filter(([p, meta]) => p.startsWith('node_modules/') && meta.devOptional === true)
    .map(([p]) => p)
    .filter((p) => existsSync(path.join(root, p)));
  const bin = path.join(root, 'node_modules', 'onnxruntime-node', 'bin');
  if (existsSync(bin)) {
    for (const napi of readdirSync(bin)) {
      for (const os of readdirSync(path.join(bin, napi))) {
        const osDir = path.join('node_modules', 'onnxruntime-node', 'bin', napi, os);
        if (os !== platform) {
          out.push(osDir);
          continue;
        }
        for (const cpu of readdirSync(path.join(root, osDir))) {
          if (cpu !== arch) out.push(path.join(osDir, cpu));
        }
      }
    }
  }
  // A package inside another that goes anyway needs no removal of its own.
  return out.filter((p) => !out.some((q) => q !== p && p.startsWith(`${q}/`)));
}

export function prune(root) {
  let freed = 0;
  const removed = prunable(root);
  for (const p of removed) {
    const full = path.join(root, p);
    freed += size(full);
    rmSync(full, { recursive: true, force: true });
  }
  return { removed, freed };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const root = path.resolve(process.argv[2] ?? '.');
  const { removed, freed } = prune(root);
  console.log(
    `prune-runtime: removed ${removed.length} paths, ${(freed / 2 ** 20).toFixed(0)} MiB`,
  );
}
