import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { querySnapshots, SNAPSHOT_FILE } from './snapshots.js';

describe('vector query snapshots', () => {
  it(`${SNAPSHOT_FILE} is what the query builders produce (npm run queries -w @lookalike/db)`, async () => {
    const committed = await readFile(path.join(import.meta.dirname, SNAPSHOT_FILE), 'utf8');
    expect(committed).toBe(querySnapshots());
  });

  it('binds every value as a parameter: no UUID, vector or filter text in the SQL itself', () => {
    const text = querySnapshots()
      .split('\n')
      .filter((l) => !l.startsWith('--'))
      .join('\n');
    expect(text).not.toContain('01900000-0000-7000');
    expect(text).not.toContain('[0.6,0,0.8]');
    expect(text).not.toContain('50% off');
    expect(text).not.toContain('"color"');
  });
});
