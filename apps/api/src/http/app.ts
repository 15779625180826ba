import type http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { THUMBNAIL_WIDTHS, type Core } from '@lookalike/core';
import { sniffImageType } from '@lookalike/inference';
import express, { type Request } from 'express';
import { createContext, type Context } from '../context.js';
import type { ApiConfig } from '../env.js';
import { formatError } from '../graphql/errors.js';
import { inputGuard } from '../graphql/input-guard.js';
import type { Logger } from '../logger.js';
import { createSchema } from '../schema/build-schema.js';
import { bearerAuth, principalOf } from './auth.js';
import { bodyIdleTimeout } from './body-timeout.js';
import { errorHandler } from './error-handler.js';
import {
  aliasLimit,
  complexityLimit,
  depthLimit,
  documentLimits,
  type QueryLimits,
} from './limits.js';
import { multipartUploads } from './multipart.js';
import { createRateLimiter } from './rate-limit.js';
import { uploadReader } from './uploads.js';

export interface AppOptions {
  core: Core;
  config: ApiConfig;
  limits: QueryLimits;
  log: Logger;
  httpServer: http.Server;
}

/**
 * The routes: GraphQL (multipart uploads, bearer auth, rate limits), image files, health
 * checks. Everything behind them is the core's.
 */
export async function createApp({ core, config, limits, log, httpServer }: AppOptions) {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  httpServer.on('request', app);

  // Imports draw on their own budget (rows a minute per merchant), so one merchant's sync
  // cannot use up the requests its own searches, or anyone else's, need.
  const importLimiter = createRateLimiter({
    perMinute: config.IMPORT_ROWS_PER_MINUTE,
    keyPrefix: 'import',
    sql: core.db.sql,
  });
  const schema = await createSchema({
    core,
    readUpload: uploadReader(config.MAX_UPLOAD_BYTES),
    readImport: uploadReader(config.MAX_IMPORT_BYTES),
    importLimiter,
  });
  const apollo = new ApolloServer<Context>({
    schema,
    csrfPrevention: true,
    introspection: config.NODE_ENV !== 'production',
    includeStacktraceInErrorResponses: false,
    // The process decides how it stops (main.ts: drain, stop the worker, close the database);
    // Apollo's own handlers would stop it and raise the signal again, killing it first.
    stopOnTerminationSignals: false,
    validationRules: [depthLimit(limits.maxDepth), aliasLimit(limits.maxAliases)],
    formatError: formatError((message, error) => {
      log.error(`[api] ${message}`, error);
    }),
    plugins: [
      // No cache hints are used: computing them for every field of every response is waste.
      ApolloServerPluginCacheControlDisabled(),
      // Before complexity: that plugin reads the variables the guard may refuse.
      inputGuard(),
      complexityLimit(schema, limits.maxComplexity),
      ApolloServerPluginDrainHttpServer({ httpServer }),
    ],
  });
  await apollo.start();

  const authenticate = bearerAuth(
    core.apiKeys,
    createRateLimiter({
      perMinute: config.RATE_LIMIT_PER_MINUTE,
      keyPrefix: 'request',
      sql: core.db.sql,
    }),
  );
  const baseUrl = (req: Request) =>
    config.PUBLIC_URL?.replace(/\/$/, '') ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Applied migrations stay applied: once they are all in, probes only ping the database
  // instead of reading and hashing every migration file each time.
  let migrationsApplied = false;
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await core.db.ping();
      checks.database = 'ok';
      if (!migrationsApplied) {
        const status = await core.db.migrationStatus();
        migrationsApplied = status.pending.length === 0 && status.modified.length === 0;
        if (!migrationsApplied) checks.migrations = `pending: ${status.pending.join(', ')}`;
      }
      if (migrationsApplied) checks.migrations = 'ok';
    } catch (error) {
      checks.database = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
    }
    checks.models = core.registry
      .infos()
      .map((i) => `${i.key} on ${i.executionProvider}`)
      .join(', ');
    checks.detector = core.detector ? core.detector.info.key : 'none (detection off)';
    const ready = checks.database === 'ok' && checks.migrations === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/images/:sha256', async (req, res, next) => {
    try {
      const sha256 = req.params.sha256;
      const width = req.query.w === undefined ? undefined : Number(req.query.w);
      if (width !== undefined && !THUMBNAIL_WIDTHS.includes(width)) {
        res.status(400).json({ error: `w must be one of ${THUMBNAIL_WIDTHS.join(', ')}` });
        return;
      }
      const body =
        width === undefined
          ? await core.store.get(sha256)
          : await core.store.thumbnail(sha256, width);
      if (!body) {
        res.status(404).json({ error: 'image not found' });
        return;
      }
      const type =
        width === undefined ? (sniffImageType(body) ?? 'application/octet-stream') : 'image/webp';
      res.set({
        'Content-Type': type,
        'Cache-Control': 'public, max-age=31536000, immutable',
        ETag: `"${sha256}${width ? `-${width}` : ''}"`,
        'X-Content-Type-Options': 'nosniff',
      });
      res.send(body);
    } catch (error) {
      next(error);
    }
  });

  // The key and its rate limit first (no body is read for a request without one), then the
  // body, which may not stall (Node bounds the whole request: server.ts), then bounds on the
  // document's nesting and fragments before Apollo parses it.
  app.use(
    '/graphql',
    authenticate,
    bodyIdleTimeout(config.BODY_IDLE_TIMEOUT_MS),
    multipartUploads({
      // Each field is read with its own limit (images MAX_UPLOAD_BYTES, catalog files
      // MAX_IMPORT_BYTES); this is the largest any field may be.
      maxFileSize: Math.max(config.MAX_UPLOAD_BYTES, config.MAX_IMPORT_BYTES),
      maxFiles: 2,
      maxFieldSize: 1_000_000,
    }),
    express.json({ limit: '1mb' }),
    documentLimits(limits),
    expressMiddleware(apollo, {
      context: ({ req, res }) =>
        Promise.resolve(createContext(principalOf(res), baseUrl(req), core.catalog)),
    }),
  );

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler(log));

  return { app, stop: () => apollo.stop() };
}
