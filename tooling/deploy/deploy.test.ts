// docker-compose.yml and apps/*/Dockerfile, checked without a Docker engine: the services and how
// they are wired, each image's stages, user, installs and entry point against the app's
// package.json and tsconfig, and every environment variable against the app's own parser
// (apps/*/src/env.ts) and .env.example.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envSchema as adminEnv } from '../../apps/admin/src/env.js';
import { envSchema as apiEnv } from '../../apps/api/src/env.js';
import { envSchema as workerEnv } from '../../apps/worker/src/env.js';
import {
  command,
  copies,
  env,
  healthcheck,
  instructions,
  last,
  parseDockerfile,
  type Stage,
} from './dockerfile.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

// --- what the apps say about themselves ---

interface ParseResult {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}
/** The part of a zod object schema these checks use. */
interface EnvSchema {
  shape: Record<string, { safeParse(value: unknown): ParseResult }>;
  safeParse(value: unknown): ParseResult;
}

interface Manifest {
  name: string;
  scripts: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** Every workspace package by name, with its folder (relative to the repository root). */
const workspaces = new Map<string, { dir: string; manifest: Manifest }>();
for (const group of ['apps', 'packages']) {
  for (const entry of readdirSync(path.join(root, group))) {
    const dir = `${group}/${entry}`;
    if (!existsSync(path.join(root, dir, 'package.json'))) continue;
    const manifest = JSON.parse(read(`${dir}/package.json`)) as Manifest;
    workspaces.set(manifest.name, { dir, manifest });
  }
}

/** The workspace packages an app runs on: its production dependencies, transitively. */
function runtimeWorkspaces(name: string, seen = new Set<string>()): Set<string> {
  seen.add(name);
  for (const dep of Object.keys(workspaces.get(name)?.manifest.dependencies ?? {})) {
    if (workspaces.has(dep) && !seen.has(dep)) runtimeWorkspaces(dep, seen);
  }
  return seen;
}

/** Where a package's build writes: .next for Next.js, else its tsc outDir. */
function buildOutput(dir: string): { outDir: string; rootDir: string | undefined } {
  const build = workspaces.get(packageName(dir))?.manifest.scripts.build ?? '';
  if (build.startsWith('next build')) return { outDir: `${dir}/.next`, rootDir: undefined };
  const project = /tsc -p (\S+)/.exec(build)?.[1];
  if (!project) throw new Error(`${dir}: unknown build script ${build}`);
  const file = path.join(root, dir, project);
  const config = ts.readConfigFile(file, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(file));
  const { outDir, rootDir } = parsed.options;
  if (!outDir) throw new Error(`${dir}/${project} has no outDir`);
  return {
    outDir: path.relative(root, outDir),
    rootDir: rootDir ? path.relative(root, rootDir) : undefined,
  };
}

function packageName(dir: string): string {
  for (const [name, w] of workspaces) if (w.dir === dir) return name;
  throw new Error(`no workspace in ${dir}`);
}

/** Names .env.example documents, set or commented out (`NAME=value`, `# NAME=`). */
const documented = new Set(
  [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]),
);

// --- the files under test ---

interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  // A bare number (`- 4000`) is valid YAML here too.
  ports?: (string | number)[];
  volumes?: string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  container_name?: string;
  hostname?: string;
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service | undefined>;
  volumes?: Record<string, unknown>;
};

function service(name: string): Service {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

/** A value as the container sees it: `${NAME:-default}` passed through empty becomes its default. */
function resolve(value: string): { value: string; passedThrough: string | undefined } {
  const interpolated = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}$/.exec(value);
  if (interpolated) return { value: interpolated[2] ?? '', passedThrough: interpolated[1] };
  if (value.includes('$')) throw new Error(`unsupported interpolation: ${value}`);
  return { value, passedThrough: undefined };
}

/** The environment compose sets for a service, as written. */
function composeEnv(s: Service): Record<string, string> {
  const e = s.environment ?? {};
  if (Array.isArray(e)) {
    return Object.fromEntries(
      e.map((pair) => {
        const at = pair.indexOf('=');
        if (at < 0) throw new Error(`${pair}: a variable without a value is taken from the shell`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function ports(s: Service): { host: string; container: number }[] {
  return (s.ports ?? []).map((p) => {
    const parts = String(p).split(':');
    const container = Number(parts.pop());
    return { host: parts.join(':'), container };
  });
}

function dependsOn(s: Service): Record<string, string | undefined> {
  const d = s.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((name) => [name, undefined]));
  return Object.fromEntries(Object.entries(d).map(([name, v]) => [name, v.condition]));
}

function mounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

const apps = {
  api: { dir: 'apps/api', schema: apiEnv as EnvSchema, portVariable: 'PORT' },
  worker: { dir: 'apps/worker', schema: workerEnv as EnvSchema, portVariable: undefined },
  admin: { dir: 'apps/admin', schema: adminEnv as EnvSchema, portVariable: 'ADMIN_PORT' },
} as const;
type App = keyof typeof apps;
const appNames = Object.keys(apps) as App[];

function dockerfile(app: App): { stages: Stage[]; runtime: Stage; file: string } {
  const file = service(app).build?.dockerfile ?? '';
  const stages = parseDockerfile(read(file));
  const runtime = stages.at(-1);
  if (!runtime) throw new Error(`${file} has no stage`);
  return { stages, runtime, file };
}

/** What the app's process sees: its image's ENV, then compose's environment over it. */
function effectiveEnv(app: App): Record<string, string> {
  const written = Object.entries(composeEnv(service(app)));
  const values = Object.fromEntries(written.map(([k, v]) => [k, resolve(v).value] as const));
  return { ...env(dockerfile(app).runtime), ...values };
}

function hasHealthcheck(name: string): boolean {
  const s = service(name);
  if (s.healthcheck?.disable) return false;
  if (s.healthcheck?.test) return true;
  return name in apps && healthcheck(dockerfile(name as App).runtime) !== undefined;
}

// --- the checks ---

describe('parseDockerfile', () => {
  it('joins continuation lines, skips comments, and names stages', () => {
    const [build, runtime] = parseDockerfile(
      [
        'FROM node:20 AS build',
        'RUN a \\',
        '  # between',
        '  && b',
        'FROM node:20-slim',
        'ENV A=1 B="two words"',
        'CMD ["node", "x.js"]',
      ].join('\n'),
    );
    expect(build).toMatchObject({ image: 'node:20', name: 'build' });
    expect(instructions(build!, 'RUN')).toEqual(['a  && b']);
    expect(runtime?.name).toBeUndefined();
    expect(env(runtime!)).toEqual({ A: '1', B: 'two words' });
    expect(command(last(runtime!, 'CMD')!)).toEqual(['node', 'x.js']);
  });
});

describe('docker-compose.yml', () => {
  it('runs Postgres from a pinned pgvector image (0.8+), on a named volume, with pg_isready', () => {
    const db = service('db');
    const tag = /^pgvector\/pgvector:(\d+)\.(\d+)\.(\d+)-pg(\d+)$/.exec(db.image ?? '');
    expect(tag, `db image ${db.image ?? '(none)'}`).not.toBeNull();
    const [, major, minor, , pg] = tag!.map(Number);
    expect(major! > 0 || minor! >= 8, 'pgvector 0.8+ (iterative index scans)').toBe(true);
    // The official image keeps its data in /var/lib/postgresql/data up to Postgres 17 and in
    // /var/lib/postgresql from 18 on.
    const dataDir = pg! >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data';
    const volume = mounts(db).find((m) => m.target === dataDir);
    expect(volume, `a volume at ${dataDir}`).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume!.source);

    const { POSTGRES_USER, POSTGRES_DB } = composeEnv(db);
    const test = [db.healthcheck?.test ?? []].flat().join(' ');
    expect(test).toContain('pg_isready');
    expect(test).toContain(`-U ${POSTGRES_USER ?? ''}`);
    expect(test).toContain(`-d ${POSTGRES_DB ?? ''}`);
  });

  it.each(appNames)('builds %s from its Dockerfile, with the repository as context', (app) => {
    const { build, image } = service(app);
    expect(image).toBeUndefined();
    expect(build).toEqual({ context: '.', dockerfile: `${apps[app].dir}/Dockerfile` });
    expect(existsSync(path.join(root, apps[app].dir, 'Dockerfile'))).toBe(true);
  });

  it.each(appNames)('publishes the port %s listens on, the one its image EXPOSEs', (app) => {
    const { portVariable } = apps[app];
    const exposed = instructions(dockerfile(app).runtime, 'EXPOSE').map(Number);
    const published = ports(service(app)).map((p) => p.container);
    if (portVariable === undefined) {
      expect(exposed).toEqual([]);
      expect(published).toEqual([]);
      return;
    }
    const listens = Number(effectiveEnv(app)[portVariable]);
    expect(exposed).toEqual([listens]);
    expect(published).toEqual([listens]);
  });

  it('gates start-up on healthchecks: db, then the API, then the workers and the dashboard', () => {
    expect(dependsOn(service('api'))).toEqual({ db: 'service_healthy' });
    expect(dependsOn(service('worker'))).toMatchObject({ db: 'service_healthy' });
    expect(dependsOn(service('admin'))).toEqual({ api: 'service_healthy' });
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [target, condition] of Object.entries(dependsOn(s!))) {
        expect(Object.keys(compose.services), `${name} depends on ${target}`).toContain(target);
        if (condition === 'service_healthy') {
          expect(hasHealthcheck(target), `${name} waits for ${target}'s health`).toBe(true);
        }
      }
    }
    // The API's probe asks /readyz (database reachable, migrations applied) on its own port.
    const probe = [service('api').healthcheck?.test ?? []].flat().join(' ');
    expect(probe).toContain(`127.0.0.1:${effectiveEnv('api').PORT ?? ''}/readyz`);
  });

  it('lets the worker scale: no container name, hostname or host port', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.hostname).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
  });

  it('gives each app a volume at its DATA_DIR, the same one for the API and the workers', () => {
    const dataVolume = (app: App) => {
      const dataDir = effectiveEnv(app).DATA_DIR;
      const mount = mounts(service(app)).find((m) => m.target === dataDir);
      expect(mount, `${app}: a volume at DATA_DIR ${dataDir ?? '(unset)'}`).toBeDefined();
      expect(Object.keys(compose.volumes ?? {})).toContain(mount!.source);
      return mount!.source;
    };
    expect(dataVolume('worker')).toBe(dataVolume('api'));
    dataVolume('admin');
  });

  it('points the API and the workers at the db service, and the dashboard at the API', () => {
    const { POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB } = composeEnv(service('db'));
    for (const app of ['api', 'worker'] as const) {
      const url = new URL(effectiveEnv(app).DATABASE_URL ?? '');
      expect(url.hostname, app).toBe('db');
      expect(url.port || '5432', app).toBe('5432');
      expect(url.username, app).toBe(POSTGRES_USER);
      expect(url.password, app).toBe(POSTGRES_PASSWORD);
      expect(url.pathname, app).toBe(`/${POSTGRES_DB ?? ''}`);
    }
    expect(effectiveEnv('admin').API_URL).toBe(`http://api:${effectiveEnv('api').PORT ?? ''}`);
  });

  it.each(appNames)(
    'sets for %s only variables its parser reads, each documented in .env.example',
    (app) => {
      const reads = Object.keys(apps[app].schema.shape);
      for (const [name, value] of Object.entries(composeEnv(service(app)))) {
        expect(reads, `${app}: ${name} is not read by ${apps[app].dir}/src/env.ts`).toContain(name);
        expect(documented.has(name), `${name} is not in .env.example`).toBe(true);
        const { passedThrough } = resolve(value);
        if (passedThrough !== undefined) expect(passedThrough, `${app}: ${name}`).toBe(name);
      }
      // The image's own defaults too (an ENV the app does not read configures nothing).
      for (const name of Object.keys(env(dockerfile(app).runtime))) {
        expect(reads, `${app}: the image sets ${name}, which its parser does not read`).toContain(
          name,
        );
      }
    },
  );

  it.each(appNames)(
    'gives %s every variable its parser requires, with values it accepts',
    (app) => {
      const { schema } = apps[app];
      const vars = effectiveEnv(app);
      const required = Object.entries(schema.shape)
        .filter(([, field]) => !field.safeParse(undefined).success)
        .map(([name]) => name);
      for (const name of required) {
        expect(vars[name] ?? '', `${app} requires ${name}`).not.toBe('');
      }
      // As the apps parse: an empty value is an unset one (the parser's default).
      const present = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== ''));
      const parsed = schema.safeParse(present);
      const issues = (parsed.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
      expect(issues, app).toEqual([]);
    },
  );
});

describe.each(appNames)('the %s Dockerfile', (app) => {
  const { dir } = apps[app];
  const name = packageName(dir);
  const { manifest } = workspaces.get(name)!;
  const nodeMajor = read('.nvmrc').trim();

  it('builds in one stage and runs from another, both on the Node version of .nvmrc', () => {
    const { stages } = dockerfile(app);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(new RegExp(`^node:${nodeMajor}[-.]`));
    const named = stages.map((s) => s.name);
    for (const copy of copies(dockerfile(app).runtime)) {
      if (copy.from !== undefined) expect(named.slice(0, -1)).toContain(copy.from);
    }
  });

  it('installs every dependency and builds the app with turbo in the build stage', () => {
    const { stages } = dockerfile(app);
    const runs = stages.slice(0, -1).flatMap((s) => instructions(s, 'RUN'));
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit'))).toBe(true);
    expect(runs.some((r) => r.includes(`turbo run build --filter=${name}`))).toBe(true);
  });

  it('installs only the production dependencies of this workspace in the runtime stage', () => {
    const runs = instructions(dockerfile(app).runtime, 'RUN');
    const install = runs.find((r) => /\bnpm ci\b/.test(r));
    expect(install).toBeDefined();
    expect(install).toContain('--omit=dev');
    expect(install).toMatch(new RegExp(`(--workspace[= ]|-w )${name}\\b`));
  });

  it('prunes the runtime install of what production never loads', () => {
    const { runtime } = dockerfile(app);
    const install = instructions(runtime, 'RUN').find((r) => /\bnpm ci\b/.test(r)) ?? '';
    expect(install).toMatch(/npm ci [^&]*&& node \/tmp\/prune-runtime\.mjs\b/);
    expect(copies(runtime)).toContainEqual({
      from: undefined,
      sources: ['tooling/deploy/prune-runtime.mjs'],
      destination: '/tmp/',
    });
  });

  it('copies every local module that the source files it copies import', () => {
    const { runtime } = dockerfile(app);
    const sources = copies(runtime)
      .filter((c) => c.from === undefined)
      .flatMap((c) => c.sources.map((s) => s.replace(/\/$/, '')));
    const inImage = (file: string) => sources.some((s) => file === s || file.startsWith(`${s}/`));
    // next.config.ts, above all: `next start` compiles it, with what it imports, at boot.
    const pending = sources.filter((s) => /\.(ts|mts|js|mjs)$/.test(s));
    const seen = new Set<string>();
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      for (const { fileName } of ts.preProcessFile(read(file), true, true).importedFiles) {
        if (!fileName.startsWith('.')) continue;
        const base = path.join(path.dirname(file), fileName);
        const target = ['', '.ts', '.tsx', '.mts', '.js', '.mjs', '/index.ts']
          .map((ext) => base + ext)
          .find((f) => statSync(path.join(root, f), { throwIfNoEntry: false })?.isFile());
        expect(target, `${file} imports ${fileName}, which is not in the repository`).toBeDefined();
        expect(inImage(target!), `${file} imports ${target!}, which the image lacks`).toBe(true);
        pending.push(target!);
      }
    }
  });

  it('runs as an unprivileged user that owns DATA_DIR', () => {
    const { runtime } = dockerfile(app);
    const user = last(runtime, 'USER');
    expect(user).toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);
    const dataDir = env(runtime).DATA_DIR;
    expect(dataDir).toBeDefined();
    // A named volume mounted there starts with the owner of the image's directory.
    const chown = new RegExp(`\\bchown ${user!}(:\\S+)? ${dataDir!}(\\s|$)`);
    expect(
      instructions(runtime, 'RUN').some((r) => chown.test(r)),
      `chown ${dataDir!}`,
    ).toBe(true);
  });

  it('copies the manifest and the build output of each workspace package it runs on', () => {
    const { runtime } = dockerfile(app);
    const fromContext = copies(runtime).filter((c) => c.from === undefined);
    const fromBuild = copies(runtime).filter((c) => c.from !== undefined);
    for (const pkg of runtimeWorkspaces(name)) {
      const pkgDir = workspaces.get(pkg)!.dir;
      expect(
        fromContext.some((c) => c.sources.includes(`${pkgDir}/package.json`)),
        `${pkgDir}/package.json`,
      ).toBe(true);
      const { outDir } = buildOutput(pkgDir);
      expect(
        fromBuild.some((c) => c.sources.includes(`/app/${outDir}`)),
        `${outDir} from the build stage`,
      ).toBe(true);
    }
    // What it copies from the context exists; what it copies from the build is built there.
    for (const source of fromContext.flatMap((c) => c.sources)) {
      expect(existsSync(path.join(root, source)), source).toBe(true);
    }
    const outputs = [...workspaces.values()].map((w) => buildOutput(w.dir).outDir);
    for (const source of fromBuild.flatMap((c) => c.sources)) {
      const inRepo = path.relative('/app', source);
      expect(
        outputs.includes(inRepo) || existsSync(path.join(root, inRepo)),
        `${source} is neither a build output nor in the repository`,
      ).toBe(true);
    }
  });

  it("starts the built form of the package's start script", () => {
    const { runtime } = dockerfile(app);
    const cmd = command(last(runtime, 'CMD') ?? '[]');
    const start = manifest.scripts.start ?? '';
    if (start.startsWith('next start')) {
      // Next.js's production server, on the port the dashboard's parser reads.
      expect(last(runtime, 'WORKDIR')).toBe(`/app/${dir}`);
      expect(manifest.dependencies).toHaveProperty('next');
      expect(cmd.join(' ')).toContain('node /app/node_modules/next/dist/bin/next start');
      expect(cmd.join(' ')).toContain(`-p "$${apps[app].portVariable ?? ''}"`);
      return;
    }
    // tsx src/main.ts in development is node dist/main.js in the image (rootDir -> outDir).
    const source = start.split(/\s+/).find((w) => w.endsWith('.ts'));
    expect(source, `${dir} start script ${start}`).toBeDefined();
    expect(existsSync(path.join(root, dir, source!))).toBe(true);
    const { outDir, rootDir } = buildOutput(dir);
    const compiled = path
      .join(outDir, path.relative(rootDir ?? dir, path.join(dir, source!)))
      .replace(/\.ts$/, '.js');
    expect(last(runtime, 'WORKDIR')).toBe('/app');
    expect(cmd).toEqual(['node', compiled]);
  });

  it('probes the port it EXPOSEs, if it has one', () => {
    const { runtime } = dockerfile(app);
    const { portVariable } = apps[app];
    const probe = healthcheck(runtime);
    if (portVariable === undefined) {
      expect(probe).toBeUndefined();
      return;
    }
    expect(probe?.join(' ')).toContain(`process.env.${portVariable}`);
    expect(instructions(runtime, 'EXPOSE')).toEqual([env(runtime)[portVariable]]);
  });
});

describe('.dockerignore', () => {
  it("keeps this machine's installs, builds and data out of the build context", () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['.git', '**/node_modules', '**/dist', '**/.next', '.data']) {
      expect(ignored).toContain(entry);
    }
  });
});
