// The API process: parse the environment once, start the server, seed the demo catalog on a
// first start, stop cleanly on a signal.
import { seedDemoCatalog } from '@lookalike/core';
import { loadConfig, type ApiConfig } from './env.js';
import { createServer } from './server.js';

let config: ApiConfig;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const server = await createServer({ config });
const url = await server.listen();
const { bootstrap: boot, core } = server;
const models = core.registry
  .infos()
  .map((i) => `${i.key} (${i.dims}-d, on ${i.executionProvider})`)
  .join(', ');
const detector = core.detector ? core.detector.info.key : 'none';
console.log(
  `Lookalike API on ${url}/graphql; models ${models}; serving ${boot.servingModel}; detector ${detector}`,
);
if (boot.generatedKey) {
  console.log(
    `\nCreated the default merchant and its first API key (all scopes). It is shown once:\n\n` +
      `  ${boot.generatedKey}\n\nand saved to ${boot.keyFile ?? ''} (mode 0600).\n`,
  );
} else if (!config.BOOTSTRAP_API_KEY) {
  console.log(`API key: the one printed on first start, also in ${config.dataDir}/bootstrap-key`);
}

const state = { stopping: false };
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    state.stopping = true;
    console.log(`${signal}: shutting down`);
    void server.close().then(() => process.exit(0));
  });
}

// The demo catalog: on the first start, or to finish one an earlier start was interrupted in.
const DEMO_SIZE = 3000;
const merchantId = boot.merchantId;
const demoStarted = await core.catalog.getByExternalId(merchantId, 'DEMO-00001');
const demoDone = await core.catalog.getByExternalId(
  merchantId,
  `DEMO-${String(DEMO_SIZE).padStart(5, '0')}`,
);
if (config.DEMO_CATALOG && (boot.created || (demoStarted && !demoDone))) {
  console.log(
    `Seeding the demo catalog (${DEMO_SIZE} Fashion-MNIST products); the API answers meanwhile.`,
  );
  const started = Date.now();
  let reported = 0;
  try {
    const { products, images } = await seedDemoCatalog(core.catalog, merchantId, {
      count: DEMO_SIZE,
      onProgress: (done, total) => {
        if (Math.floor(done / 500) > reported || done === total) {
          reported = Math.floor(done / 500);
          console.log(`  demo catalog: ${done}/${total} products`);
        }
      },
    });
    console.log(
      `Demo catalog ready: ${products} products, ${images} images in ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    );
  } catch (error) {
    if (!state.stopping) console.error('Seeding the demo catalog failed:', error);
  }
}
