// The API process: parse the environment once, start the server, seed the demo catalog on a
// first start. SIGINT or SIGTERM stops it: no new connections, requests in flight finish, the
// in-process worker stops, the database closes (on the embedded engine that removes its
// lockfile), exit 0. A second signal exits at once.
import { seedDemoCatalog } from '@lookalike/core';
import { loadConfig, type ApiConfig } from './env.js';
import { createServer, type ApiServer } from './server.js';

/**
 * The longest a stop may take before the process exits anyway, with code 1 (the lockfile is
 * still removed; the next start recovers the embedded database as after a crash). Requests in
 * flight get up to 10 s of it: the grace of Apollo's drain plugin (http/app.ts), after which
 * their connections are closed. The in-process worker's batches get 3 s more (server.ts), then
 * closing the database takes the rest. 15 s fits Kubernetes' default 30 s termination grace; with `docker stop` (10 s
 * before SIGKILL) give the container `stop_grace_period: 20s`.
 */
const SHUTDOWN_TIMEOUT_MS = 15_000;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

let config: ApiConfig;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

// Signals are ours from the first moment: one that comes while the server starts stops it as
// soon as it is up (a default SIGTERM would end the process with the database open).
const starting = createServer({ config });
// An object, not a `let`: the signal handler changes it between the awaits below.
const state = { stopping: false };
function onSignal(signal: NodeJS.Signals) {
  if (state.stopping) {
    console.log(`second ${signal}: exiting now, without waiting for requests in flight`);
    process.exit(1);
  }
  state.stopping = true;
  console.log(
    `${signal}: shutting down (requests in flight may finish; ${signal} again exits at once)`,
  );
  setTimeout(() => {
    console.error(`Not shut down after ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting.`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  starting
    .then((s) => s.close())
    .then(
      () => {
        console.log('Lookalike API shut down.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('Shutting down failed:', error);
        process.exit(1);
      },
    );
}
for (const signal of SIGNALS) process.on(signal, onSignal);

let server: ApiServer;
try {
  server = await starting;
} catch (error) {
  // Expected refusals (a locked DATA_DIR, an unreachable database) carry a code and a message
  // that says what to do; anything else is shown whole.
  const coded = error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
  console.error(coded ? error.message : error);
  process.exit(1);
}
// A signal during startup: the stop in progress closes the server and exits. What fails
// because a stop closed the database under it is that stop's doing, not an error.
if (!state.stopping) {
  await serve(server).catch((error: unknown) => {
    if (!state.stopping) throw error;
  });
}

/** Listen, say where, and seed the demo catalog when this is its first start. */
async function serve(server: ApiServer) {
  let url: string;
  try {
    url = await server.listen();
  } catch (error) {
    console.error(
      `Cannot listen on ${config.HOST}:${config.PORT}:`,
      error instanceof Error ? error.message : error,
    );
    await server.close();
    process.exit(1);
  }
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
      // A stop closes the database under the seeding; the next start finishes it.
      if (!state.stopping) console.error('Seeding the demo catalog failed:', error);
    }
  }
}
