import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { createDb, type Db } from '@lookalike/db';
import {
  bundledModelPath,
  createEmbedder,
  sniffImageType,
  type Embedder,
} from '@lookalike/inference';
import express, { type ErrorRequestHandler, type Request } from 'express';
import graphqlUploadExpress from 'graphql-upload/graphqlUploadExpress.mjs';
import { bootstrap, type BootstrapResult } from './bootstrap.js';
import { createContext, type Context } from './context.js';
import type { ApiConfig } from './env.js';
import { apiError, ErrorCode, formatError } from './errors.js';
import {
  aliasLimit,
  complexityLimit,
  DEFAULT_LIMITS,
  depthLimit,
  type QueryLimits,
} from './http/limits.js';
import { RateLimiter } from './http/rate-limit.js';
import { createSchema } from './schema/build-schema.js';
import { createServices, type Services } from './services/index.js';
import { ImageStore, THUMBNAIL_WIDTHS } from './storage/image-store.js';

export interface Logger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

export const consoleLogger: Logger = {
  info: (m) => {
    console.log(m);
  },
  error: (m, e) => {
    console.error(m, e);
  },
};

export interface CreateServerOptions {
  config: ApiConfig;
  /** An open database; when absent one is opened from the config (and closed with the server). */
  db?: Db;
  /** A running embedder; when absent one is created from the config (and closed with the server). */
  embedder?: Embedder;
  logger?: Logger;
  limits?: Partial<QueryLimits>;
}

export interface ApiServer {
  readonly app: express.Express;
  readonly services: Services;
  readonly bootstrap: BootstrapResult;
  /** Start listening (port 0: any free port); resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/** The bundled model id or a model directory/manifest path. */
function modelLocation(model: string): string {
  return model.includes('/') || model.endsWith('.json')
    ? path.resolve(model)
    : bundledModelPath(model);
}

/**
 * The API as a value: Express app with the GraphQL endpoint (multipart uploads), image files,
 * health checks. Nothing listens until `listen()`; `close()` frees what the server opened.
 */
export async function createServer(options: CreateServerOptions): Promise<ApiServer> {
  const { config } = options;
  const log = options.logger ?? consoleLogger;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const ownDb = !options.db;
  const ownEmbedder = !options.embedder;
  const db =
    options.db ??
    (await createDb({
      url: config.DATABASE_URL,
      dataDir: config.dataDir,
      log: (m) => {
        log.info(`[db] ${m}`);
      },
    }));
  let embedder: Embedder | undefined = options.embedder;
  try {
    await db.migrate();
    embedder ??= await createEmbedder({
      model: modelLocation(config.MODEL),
      device: config.INFERENCE_DEVICE,
    });
    // The model's vectors get their own partial HNSW indexes (no-op for the bundled model,
    // whose indexes the migrations create).
    await db.models.register(embedder.info.key, embedder.info.dims, 'ACTIVE');
  } catch (error) {
    if (ownEmbedder) await embedder?.close();
    if (ownDb) await db.close();
    throw error;
  }

  const store = new ImageStore(config.dataDir);
  const services = createServices(db, embedder, store, config.MAX_UPLOAD_BYTES);
  const boot = await bootstrap(db, services.apiKeys, {
    bootstrapKey: config.BOOTSTRAP_API_KEY,
    dataDir: config.dataDir,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const httpServer = http.createServer(app);
  const schema = await createSchema(services);
  const apollo = new ApolloServer<Context>({
    schema,
    csrfPrevention: true,
    introspection: config.NODE_ENV !== 'production',
    includeStacktraceInErrorResponses: false,
    validationRules: [depthLimit(limits.maxDepth), aliasLimit(limits.maxAliases)],
    formatError: formatError((message, error) => {
      log.error(`[api] ${message}`, error);
    }),
    plugins: [
      complexityLimit(schema, limits.maxComplexity),
      ApolloServerPluginDrainHttpServer({ httpServer }),
    ],
  });
  await apollo.start();

  const limiter = new RateLimiter(config.RATE_LIMIT_PER_MINUTE);
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
      await db.ping();
      checks.database = 'ok';
      if (!migrationsApplied) {
        const status = await db.migrationStatus();
        migrationsApplied = status.pending.length === 0 && status.modified.length === 0;
        if (!migrationsApplied) checks.migrations = `pending: ${status.pending.join(', ')}`;
      }
      if (migrationsApplied) checks.migrations = 'ok';
    } catch (error) {
      checks.database = `unreachable: ${error instanceof Error ? error.message : String(error)}`;
    }
    checks.model = `${embedder.info.key} on ${embedder.info.executionProvider}`;
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
        width === undefined ? await store.get(sha256) : await store.thumbnail(sha256, width);
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

  app.use(
    '/graphql',
    graphqlUploadExpress({
      maxFileSize: config.MAX_UPLOAD_BYTES,
      maxFiles: 2,
      maxFieldSize: 1_000_000,
    }),
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const header = req.headers.authorization ?? '';
        const match = /^Bearer\s+(\S+)$/i.exec(header);
        if (!match) {
          throw apiError(
            ErrorCode.UNAUTHENTICATED,
            'Send an API key: "Authorization: Bearer lk_…"',
          );
        }
        const principal = await services.apiKeys.authenticate(match[1] as string);
        if (!principal) throw apiError(ErrorCode.UNAUTHENTICATED, 'Invalid or revoked API key');
        const wait = limiter.take(principal.keyId);
        if (wait > 0) {
          throw apiError(
            ErrorCode.RATE_LIMITED,
            `Rate limit of ${config.RATE_LIMIT_PER_MINUTE} requests per minute exceeded; retry in ${wait} s`,
            {
              retryAfter: wait,
              http: { status: 429, headers: new Map([['retry-after', String(wait)]]) },
            },
          );
        }
        return createContext(principal, baseUrl(req), services);
      },
    }),
  );

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  // Errors outside GraphQL execution (malformed JSON or multipart, oversized bodies): the
  // client's fault gets its 4xx and a code; anything else is logged and masked.
  const onError: ErrorRequestHandler = (
    error: { status?: number; statusCode?: number; expose?: boolean; message?: string },
    _req,
    res,
    _next,
  ) => {
    const status = error.status ?? error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 413 ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.BAD_USER_INPUT;
      res.status(status).json({
        errors: [
          {
            message: error.expose !== false ? (error.message ?? 'Bad request') : 'Bad request',
            extensions: { code },
          },
        ],
      });
      return;
    }
    log.error('[api] unexpected error', error);
    res.status(500).json({
      errors: [
        {
          message: 'Internal server error',
          extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
        },
      ],
    });
  };
  app.use(onError);

  let closed = false;
  return {
    app,
    services,
    bootstrap: boot,
    listen(port = config.PORT, host = config.HOST) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const { port: actual } = httpServer.address() as AddressInfo;
          const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
          resolve(`http://${shown}:${actual}`);
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await apollo.stop();
      if (httpServer.listening)
        await new Promise<void>((resolve) =>
          httpServer.close(() => {
            resolve();
          }),
        );
      if (ownEmbedder) await embedder.close();
      if (ownDb) await db.close();
    },
  };
}
