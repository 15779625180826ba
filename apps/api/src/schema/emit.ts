// `npm run schema -w @lookalike/api`: write the schema to apps/api/schema.graphql (committed;
// a test fails when it is stale).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { printSchemaSorted } from './print.js';

const file = path.resolve(import.meta.dirname, '..', '..', 'schema.graphql');
await writeFile(file, await printSchemaSorted());
console.log(`wrote ${file}`);
