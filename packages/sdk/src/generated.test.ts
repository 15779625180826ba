import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../codegen.config.js';

const root = path.resolve(import.meta.dirname, '..');

describe('generated client', () => {
  it('matches the schema and the documents (run `npm run generate -w @lookalike/sdk`)', async () => {
    const [output] = (await generate({ ...config, cwd: root }, false)) as {
      filename: string;
      content: string;
    }[];
    expect(output?.filename).toMatch(/src\/generated\/graphql\.ts$/);
    const committed = await readFile(path.join(root, 'src/generated/graphql.ts'), 'utf8');
    expect(committed === output?.content, 'src/generated/graphql.ts is stale').toBe(true);
  }, 60_000);

  it('rejects a document that does not match the schema', async () => {
    await expect(
      generate(
        {
          ...config,
          cwd: root,
          documents: ['query Broken { similarProducts { noSuchField } }'],
        },
        false,
      ),
    ).rejects.toThrow(/noSuchField/);
  }, 60_000);
});
