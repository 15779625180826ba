// Sync a catalog and search it with a photo, through the SDK:
//
//   LOOKALIKE_URL=http://localhost:4000 LOOKALIKE_API_KEY=lk_… \
//     npm run example -- examples/catalog examples/shopper-photo.jpg
//
// The catalog is a CSV, JSONL or ZIP file, or a folder with catalog.csv and its images.
/* eslint-disable no-restricted-properties -- an example reads its own environment */
import { createClient, LookalikeError } from '@lookalike/sdk';

const [catalog, photo] = process.argv.slice(2);
if (!catalog || !photo) {
  console.error('usage: npm run example -- <catalog file or folder> <photo>');
  process.exit(2);
}

const client = createClient({
  url: process.env.LOOKALIKE_URL ?? 'http://localhost:4000',
  apiKey: process.env.LOOKALIKE_API_KEY,
});

try {
  // 1. Import: the API checks the file and answers the job; workers fetch and embed the rows.
  const job = await client.importCatalog(catalog);
  const done = await client.waitForJob(job.id, {
    intervalMs: 500,
    onProgress: (j) => console.log(`import ${j.status}: ${j.done + j.failed}/${j.total} rows`),
  });
  console.log(`imported ${done.done} products, ${done.failed} failed`);
  for await (const e of client.jobErrors(job.id)) {
    console.log(`  row ${e.row} (${e.externalId ?? '?'}): ${e.code} ${e.reason}`);
  }

  // 2. Search: the products that look like the photo, nearest first.
  const result = await client.search(photo, { first: 5 });
  for (const hit of result.hits) {
    console.log(
      `${hit.score.toFixed(3)} ${hit.verdict.padEnd(7)} ${hit.product.externalId} ${hit.product.title}`,
    );
  }
} catch (error) {
  if (error instanceof LookalikeError) {
    console.error(`${error.code}: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
