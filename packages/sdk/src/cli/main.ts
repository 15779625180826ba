// `lookalike`: the command line door into the API, on the SDK's typed client.
//   lookalike import catalog.csv       lookalike search photo.jpg      lookalike match a.jpg b.jpg
//   lookalike jobs [id]                lookalike models [reindex|activate <model>]
//   lookalike keys [create <name> --scope SEARCH | revoke <id>]
// --url / LOOKALIKE_URL (default http://localhost:4000), --key / LOOKALIKE_API_KEY.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  createClient,
  type IngestJob,
  type LookalikeClient,
  type SearchResult,
} from '../client.js';
import { LookalikeError } from '../errors.js';
import type { ApiScope, SimilarityMetric } from '../generated/graphql.js';
import { cliEnv } from './env.js';
import { csvLine, progressLine, seconds, table } from './format.js';

const DEFAULT_URL = 'http://localhost:4000';
const SCOPES = ['SEARCH', 'CATALOG_WRITE', 'SETTINGS_WRITE', 'KEYS_ADMIN', 'EVALUATE'] as const;

/** A failure the CLI explains in one line (exit code 1), without a stack. */
class CliError extends Error {}

interface Globals {
  url?: string;
  key?: string;
  json?: boolean;
}

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const json = (value: unknown): void => {
  out(JSON.stringify(value, null, 2));
};

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

const program = new Command('lookalike')
  .description('Lookalike: visual product search from the command line')
  .option('--url <url>', `the API (env LOOKALIKE_URL, default ${DEFAULT_URL})`)
  .option('--key <key>', 'an API key lk_… (env LOOKALIKE_API_KEY)')
  .option('--json', 'print JSON instead of tables')
  .showHelpAfterError()
  .exitOverride();

function client(): { api: LookalikeClient; globals: Globals } {
  const globals = program.opts<Globals>();
  const env = cliEnv();
  const url = globals.url ?? env.url ?? DEFAULT_URL;
  try {
    new URL(url);
  } catch {
    throw new CliError(`--url is not a URL: ${url}`);
  }
  const apiKey = globals.key ?? env.apiKey;
  if (!apiKey) throw new CliError('No API key: pass --key lk_… or set LOOKALIKE_API_KEY.');
  const api = createClient({
    url,
    apiKey,
    onRetry: ({ waitSeconds }) =>
      process.stderr.write(`Rate limited; retrying in ${waitSeconds} s\n`),
  });
  return { api, globals };
}

/** The API's answer to a file it cannot read, said with the file's name. */
async function withFile<T>(names: string[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof LookalikeError && error.code === 'UNSUPPORTED_MEDIA_TYPE')
      throw new CliError(`${names.join(' or ')}: not an image the API accepts (${error.message})`);
    throw error;
  }
}

function hitsTable(result: SearchResult): string {
  if (result.hits.length === 0) return 'No similar products.';
  return table(
    ['#', 'score', 'distance', 'verdict', 'externalId', 'title', 'category'],
    result.hits.map((h, i) => [
      i + 1,
      h.score.toFixed(4),
      h.distance.toFixed(4),
      h.verdict,
      h.product.externalId,
      h.product.title,
      h.product.category,
    ]),
  );
}

program
  .command('import')
  .description(
    'import a catalog (.csv, .jsonl, .zip, or a folder with catalog.csv and its images) and follow its progress',
  )
  .argument('<file>', 'the catalog file or folder')
  .addOption(
    new Option('--format <format>', 'when the name does not say').choices(['CSV', 'JSONL', 'ZIP']),
  )
  .option('--errors <file>', 'where the failed rows go (default: <file>.errors.csv)')
  .option('--no-wait', 'answer the job at once instead of following it')
  .option('--interval <ms>', 'time between progress polls', positiveInt, 1000)
  .action(
    async (
      file: string,
      opts: { format?: 'CSV' | 'JSONL' | 'ZIP'; errors?: string; wait: boolean; interval: number },
    ) => {
      const { api, globals } = client();
      const started = Date.now();
      const job = await api.importCatalog(file, opts.format ? { format: opts.format } : {});
      if (!opts.wait) {
        if (globals.json) json(job);
        else out(`Import ${job.id} ${job.status}: ${job.total} rows queued`);
        return;
      }
      const tty = process.stderr.isTTY && !globals.json;
      let last = '';
      const show = (j: IngestJob) => {
        const line = progressLine(j, (Date.now() - started) / 1000);
        if (tty) process.stderr.write(`\r\x1b[K${line}`);
        else if (line !== last) process.stderr.write(`${line}\n`);
        last = line;
      };
      show(job);
      const final = await api.waitForJob(job.id, { onProgress: show, intervalMs: opts.interval });
      if (tty) process.stderr.write('\n');
      const elapsed = (Date.now() - started) / 1000;
      let errorsFile: string | null = null;
      if (final.failed > 0) {
        errorsFile =
          opts.errors ??
          `${path.resolve(file).replace(/\.(csv|jsonl|ndjson|zip)$/i, '')}.errors.csv`;
        const stream = createWriteStream(errorsFile);
        stream.write(csvLine(['row', 'externalId', 'code', 'reason']));
        for await (const e of api.jobErrors(job.id)) {
          if (!stream.write(csvLine([e.row, e.externalId, e.code, e.reason])))
            await once(stream, 'drain');
        }
        stream.end();
        await once(stream, 'finish');
      }
      if (globals.json) {
        json({ ...final, seconds: elapsed, errorsFile });
      } else {
        out(
          `Import ${final.id} ${final.status}: ${final.done} done, ${final.failed} failed of ${final.total} rows, ` +
            `${final.images} images in ${seconds(elapsed)} (${((final.done + final.failed) / Math.max(elapsed, 0.001)).toFixed(1)} rows/s)`,
        );
        if (errorsFile) out(`Failed rows: ${path.resolve(errorsFile)}`);
      }
      if (final.status !== 'COMPLETED') process.exitCode = 1;
    },
  );

program
  .command('search')
  .description('products that look like this photo (a file or an http(s) URL)')
  .argument('<photo>', 'an image file or URL')
  .option('--first <n>', 'how many products', positiveInt)
  .addOption(new Option('--metric <metric>').choices(['COSINE', 'EUCLIDEAN']))
  .option('--threshold <value>', "on the metric's scale", number)
  .option('--category <category>', 'only products of this category')
  .option('--no-detect', 'search the whole photo, not its main product')
  .action(
    async (
      photo: string,
      opts: {
        first?: number;
        metric?: SimilarityMetric;
        threshold?: number;
        category?: string;
        detect: boolean;
      },
    ) => {
      const { api, globals } = client();
      const result = await withFile([photo], () =>
        api.search(photo, {
          detect: opts.detect,
          ...(opts.first ? { first: opts.first } : {}),
          ...(opts.metric ? { metric: opts.metric } : {}),
          ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
          ...(opts.category ? { filter: { category: opts.category } } : {}),
        }),
      );
      if (globals.json) {
        json(result);
        return;
      }
      out(hitsTable(result));
      out(
        `${result.hits.length} hits, model ${result.model}, ${result.metric}, ${result.tookMs.toFixed(1)} ms`,
      );
    },
  );

program
  .command('match')
  .description('do two images show the same product?')
  .argument('<a>', 'an image file or URL')
  .argument('<b>', 'an image file or URL')
  .addOption(new Option('--metric <metric>').choices(['COSINE', 'EUCLIDEAN']))
  .option('--threshold <value>', "on the metric's scale", number)
  .action(async (a: string, b: string, opts: { metric?: SimilarityMetric; threshold?: number }) => {
    const { api, globals } = client();
    const m = await withFile([a, b], () =>
      api.match(a, b, {
        ...(opts.metric ? { metric: opts.metric } : {}),
        ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
      }),
    );
    if (globals.json) {
      json(m);
      return;
    }
    out(
      table(
        ['match', 'verdict', 'score', 'distance', 'threshold', 'metric', 'model'],
        [
          [
            m.isMatch ? 'yes' : 'no',
            m.verdict ?? '-',
            m.score.toFixed(4),
            m.distance.toFixed(4),
            m.threshold,
            m.metric,
            m.model,
          ],
        ],
      ),
    );
  });

program
  .command('jobs')
  .description('imports, newest first; with an id, that job')
  .argument('[id]', 'a job id')
  .option('--first <n>', 'how many jobs', positiveInt, 20)
  .action(async (id: string | undefined, opts: { first: number }) => {
    const { api, globals } = client();
    const jobs = id ? [await api.job(id)] : (await api.jobs({ first: opts.first })).nodes;
    if (globals.json) {
      json(id ? jobs[0] : jobs);
      return;
    }
    if (jobs.length === 0) {
      out('No imports yet.');
      return;
    }
    out(
      table(
        ['id', 'status', 'format', 'total', 'done', 'failed', 'created'],
        jobs.map((j) => [j.id, j.status, j.format, j.total, j.done, j.failed, j.createdAt]),
      ),
    );
  });

const models = program
  .command('models')
  .description("the merchant's embedding models with coverage; reindex or activate one")
  .action(async () => {
    const { api, globals } = client();
    const list = await api.models();
    if (globals.json) {
      json(list);
      return;
    }
    out(
      table(
        ['model', 'status', 'dims', 'coverage', 'embedded', 'failed', 'reindex'],
        list.map((m) => [
          m.key,
          m.status,
          m.dims,
          `${(m.coverage.fraction * 100).toFixed(1)}%`,
          m.coverage.embedded,
          m.coverage.failed,
          m.reindex
            ? m.reindex.running
              ? `${m.reindex.done} done, ${m.reindex.remaining} left`
              : 'finished'
            : '',
        ]),
      ),
    );
  });

models
  .command('reindex')
  .description('embed the whole catalog with this model in the background')
  .argument('<model>')
  .option('--activate-when-ready', 'switch to it when every image is covered')
  .action(async (model: string, opts: { activateWhenReady?: boolean }) => {
    const { api, globals } = client();
    const m = await api.reindex(model, { activateWhenReady: opts.activateWhenReady ?? false });
    if (globals.json) {
      json(m);
      return;
    }
    out(
      `Re-indexing with ${m.key} (${m.status}); coverage ${(m.coverage.fraction * 100).toFixed(1)}%`,
    );
  });

models
  .command('activate')
  .description('make this model serve every search')
  .argument('<model>')
  .option('--force', 'even with incomplete coverage')
  .action(async (model: string, opts: { force?: boolean }) => {
    const { api, globals } = client();
    const s = await api.activateModel(model, { force: opts.force ?? false });
    if (globals.json) {
      json(s);
      return;
    }
    out(
      `${s.model.key} now serves (was ${s.previous ?? 'none'}), coverage ${(s.coverage * 100).toFixed(1)}%`,
    );
  });

const keys = program
  .command('keys')
  .description("the merchant's API keys; create or revoke one")
  .action(async () => {
    const { api, globals } = client();
    const list = await api.apiKeys();
    if (globals.json) {
      json(list);
      return;
    }
    out(
      table(
        ['id', 'name', 'prefix', 'scopes', 'created', 'revoked'],
        list.map((k) => [
          k.id,
          k.name,
          k.prefix,
          k.scopes.join(' '),
          k.createdAt,
          k.revokedAt ?? '',
        ]),
      ),
    );
  });

keys
  .command('create')
  .description('a new key (its secret is shown once)')
  .argument('<name>')
  .addOption(
    new Option('--scope <scope...>', 'its scopes').choices([...SCOPES]).makeOptionMandatory(),
  )
  .action(async (name: string, opts: { scope: ApiScope[] }) => {
    const { api, globals } = client();
    const created = await api.createApiKey(name, opts.scope);
    if (globals.json) {
      json(created);
      return;
    }
    out(
      `Created ${created.apiKey.name} (${created.apiKey.scopes.join(' ')}). Its secret, shown once:`,
    );
    out(created.secret);
  });

keys
  .command('revoke')
  .argument('<id>')
  .action(async (id: string) => {
    const { api } = client();
    out((await api.revokeApiKey(id)) ? `Revoked ${id}` : `${id} was already revoked`);
  });

const webhooks = program
  .command('webhooks')
  .description("the merchant's webhook endpoints; create, test, delete one, or list its deliveries")
  .action(async () => {
    const { api, globals } = client();
    const list = await api.webhookEndpoints();
    if (globals.json) {
      json(list);
      return;
    }
    if (list.length === 0) {
      out('No webhook endpoints.');
      return;
    }
    out(
      table(
        ['id', 'url', 'events', 'created'],
        list.map((e) => [e.id, e.url, e.events.join(' '), e.createdAt]),
      ),
    );
  });

webhooks
  .command('events')
  .description('the events an endpoint can subscribe to, and what each is sent for')
  .action(async () => {
    const { api, globals } = client();
    const events = await api.webhookEvents();
    if (globals.json) {
      json(events);
      return;
    }
    out(
      table(
        ['event', 'sent for'],
        events.map((e) => [e.name, e.description]),
      ),
    );
  });

webhooks
  .command('create')
  .description('deliver these events to this URL (its signing secret is shown once)')
  .argument('<url>')
  .requiredOption(
    '--event <event...>',
    'one or more events (`lookalike webhooks events` lists them)',
  )
  .action(async (url: string, opts: { event: string[] }) => {
    const { api, globals } = client();
    const created = await api.createWebhookEndpoint(url, opts.event);
    if (globals.json) {
      json(created);
      return;
    }
    out(
      `Created endpoint ${created.endpoint.id} for ${created.endpoint.url}. Its signing secret, shown once:`,
    );
    out(created.secret);
  });

webhooks
  .command('test')
  .description('send a webhook.test event to this endpoint')
  .argument('<id>')
  .action(async (id: string) => {
    const { api, globals } = client();
    const d = await api.sendTestWebhook(id);
    if (globals.json) {
      json(d);
      return;
    }
    out(`Queued ${d.eventType} (delivery ${d.id}, event ${d.eventId})`);
  });

webhooks
  .command('deliveries')
  .description("an endpoint's deliveries, newest first")
  .argument('<id>')
  .option('--first <n>', 'how many', positiveInt, 20)
  .action(async (id: string, opts: { first: number }) => {
    const { api, globals } = client();
    const page = await api.webhookDeliveries(id, { first: opts.first });
    if (globals.json) {
      json(page.nodes);
      return;
    }
    out(
      table(
        ['event', 'status', 'attempts', 'last status', 'last error', 'created', 'delivered'],
        page.nodes.map((d) => [
          d.eventType,
          d.status,
          d.attempts,
          d.lastStatus,
          d.lastError,
          d.createdAt,
          d.deliveredAt,
        ]),
      ),
    );
  });

webhooks
  .command('delete')
  .argument('<id>')
  .action(async (id: string) => {
    const { api } = client();
    await api.deleteWebhookEndpoint(id);
    out(`Deleted ${id}`);
  });

/** One line a person can act on, for the errors the CLI expects. */
function explain(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof LookalikeError) {
    switch (error.code) {
      case 'API_UNREACHABLE':
        return `${error.message} (set --url or LOOKALIKE_URL)`;
      case 'UNAUTHENTICATED':
        return `The API refused the key: ${error.message}. Check --key or LOOKALIKE_API_KEY.`;
      case 'FORBIDDEN':
        return `This key may not do that: ${error.message}`;
      default:
        return `${error.message} (${error.code}${error.reason ? `, ${error.reason}` : ''})`;
    }
  }
  return `Unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode =
      error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
  } else {
    process.stderr.write(`lookalike: ${explain(error)}\n`);
    process.exitCode = 1;
  }
}
