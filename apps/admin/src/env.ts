import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** The GraphQL API; only this server talks to it, never the browser. */
  API_URL: z.url().default('http://127.0.0.1:4000'),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Encrypts and authenticates the session cookie (AES-256-GCM). Unset: a random secret is
   * generated once into DATA_DIR/admin-session-secret (mode 0600).
   */
  ADMIN_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DATA_DIR: z.string().min(1).optional(),
});

/** The variables this app reads and their rules (tooling/deploy checks docker-compose.yml against them). */
export { schema as envSchema };

export type AdminEnv = Omit<z.infer<typeof schema>, 'DATA_DIR' | 'API_URL'> & {
  API_URL: string;
  /** Absolute. */
  dataDir: string;
};

/** The repository root: the nearest folder at or above `from` whose package.json has workspaces. */
export function repoRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object)
    )
      return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

/** Parse an environment; a bad value throws with the variable's name. */
export function parseEnv(env: Record<string, string | undefined>, cwd = process.cwd()): AdminEnv {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  const { DATA_DIR, API_URL, ...rest } = parsed.data;
  // Like the API: a relative DATA_DIR is relative to where npm ran (INIT_CWD); the default is
  // the repository's .data, shared with the API.
  const base = env.INIT_CWD ?? cwd;
  const dataDir = DATA_DIR ? path.resolve(base, DATA_DIR) : path.join(repoRoot(cwd), '.data');
  return { ...rest, API_URL: API_URL.replace(/\/+$/, ''), dataDir };
}

let cached: AdminEnv | undefined;

/**
 * The environment, parsed once on first use (docs/architecture.md). Lazily, not at import: `next build`
 * imports every route without the runtime environment.
 */
export function env(): AdminEnv {
  cached ??= parseEnv(process.env);
  return cached;
}
