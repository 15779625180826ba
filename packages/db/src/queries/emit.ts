// `npm run queries -w @lookalike/db`: write the vector queries' SQL snapshot (committed; a test
// fails when it is stale).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { querySnapshots, SNAPSHOT_FILE } from './snapshots.js';

const file = path.join(import.meta.dirname, SNAPSHOT_FILE);
await writeFile(file, querySnapshots());
console.log(`wrote ${file}`);
