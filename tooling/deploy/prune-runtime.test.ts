import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = path.join(import.meta.dirname, 'prune-runtime.mjs');

/** A runtime install as `npm ci --omit=dev` leaves it, in miniature. */
describe('prune-runtime.mjs', () => {
  let root = '';
  let output = '';
  const ort = 'node_modules/onnxruntime-node/bin/napi-v6';
  const other = process.arch === 'x64' ? 'arm64' : 'x64';

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'prune-runtime-'));
    const packages: Record<string, object> = {
      '': { name: 'app' },
      'node_modules/prisma': { devOptional: true },
      'node_modules/prisma/node_modules/nested': { devOptional: true },
      'node_modules/typescript': { devOptional: true },
      'node_modules/not-installed': { devOptional: true },
      'node_modules/@img/sharp-linux-x64': { optional: true },
      'node_modules/@prisma/client': {},
      'node_modules/onnxruntime-node': {},
    };
    await writeFile(path.join(root, 'package-lock.json'), JSON.stringify({ packages }));
    const dirs = [
      ...Object.keys(packages).filter((p) => p !== '' && !p.includes('not-installed')),
      `${ort}/${process.platform}/${process.arch}`,
      `${ort}/${process.platform}/${other}`,
      `${ort}/${process.platform === 'win32' ? 'darwin' : 'win32'}/x64`,
    ];
    for (const dir of dirs) {
      await mkdir(path.join(root, dir), { recursive: true });
      await writeFile(path.join(root, dir, 'file'), Buffer.alloc(1024));
    }
    output = execFileSync(process.execPath, [script, root], { encoding: 'utf8' });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  const present = (p: string) => existsSync(path.join(root, p));

  it('removes the packages kept only as optional peers (devOptional)', () => {
    expect(present('node_modules/prisma')).toBe(false);
    expect(present('node_modules/typescript')).toBe(false);
  });

  it('keeps optional dependencies proper and everything production needs', () => {
    expect(present('node_modules/@img/sharp-linux-x64/file')).toBe(true);
    expect(present('node_modules/@prisma/client/file')).toBe(true);
    expect(present('package-lock.json')).toBe(true);
  });

  it("keeps only this platform's onnxruntime-node binaries", () => {
    expect(present(`${ort}/${process.platform}/${process.arch}/file`)).toBe(true);
    expect(present(`${ort}/${process.platform}/${other}`)).toBe(false);
    expect(present(`${ort}/${process.platform === 'win32' ? 'darwin' : 'win32'}`)).toBe(false);
  });

  it('says how much it removed', () => {
    // prisma (with the package inside it), typescript, the other arch's and OS's binaries.
    expect(output.trim()).toBe('prune-runtime: removed 4 paths, 0 MiB');
  });
});
