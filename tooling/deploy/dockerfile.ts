// A Dockerfile read into its stages and instructions, for checks that need no Docker engine
// (deploy.test.ts). It knows the syntax our Dockerfiles use: comments, `\` continuations, FROM
// ... AS, JSON (exec) and shell forms, ENV key=value pairs, COPY flags, HEALTHCHECK options.

export interface Instruction {
  /** Upper-cased: RUN, COPY, CMD, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // Comment lines may sit between continuation lines too; Docker drops them.
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    if (full === '') continue;
    const keyword = (full.split(/\s/, 1)[0] ?? '').toUpperCase();
    const args = full.slice(keyword.length).trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from?.[1]) throw new Error(`unreadable FROM ${args}`);
      stages.push({ image: from[1], name: from[2], instructions: [] });
    } else if (keyword === 'ARG' && stages.length === 0) {
      // Build arguments before the first FROM belong to no stage.
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before the first FROM`);
      stage.instructions.push({ keyword, args });
    }
  }
  if (pending !== '') throw new Error('the last line ends with a continuation');
  return stages;
}

/** The instructions of a stage with this keyword, in order. */
export function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The last instruction with this keyword (the one in effect), if any. */
export function last(stage: Stage, keyword: string): string | undefined {
  return instructions(stage, keyword).at(-1);
}

/** A CMD, ENTRYPOINT or HEALTHCHECK command as argv: exec form as written, shell form via sh -c. */
export function command(args: string): string[] {
  if (args.startsWith('[')) {
    const argv: unknown = JSON.parse(args);
    if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
      throw new Error(`exec form is not a JSON array of strings: ${args}`);
    }
    return argv;
  }
  return ['/bin/sh', '-c', args];
}

/** The variables a stage's ENV instructions set, later ones winning. */
export function env(stage: Stage): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const args of instructions(stage, 'ENV')) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
      // The legacy form: ENV NAME value.
      const [name = '', ...value] = args.split(/\s+/);
      vars[name] = value.join(' ');
      continue;
    }
    for (const pair of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const [, name = '', value = ''] = pair;
      vars[name] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    }
  }
  return vars;
}

export interface Copy {
  /** The stage named by --from, or undefined for the build context. */
  from: string | undefined;
  sources: string[];
  destination: string;
}

export function copies(stage: Stage): Copy[] {
  return instructions(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    const destination = paths.pop();
    if (destination === undefined || paths.length === 0) throw new Error(`unreadable COPY ${args}`);
    return { from, sources: paths, destination };
  });
}

/** A HEALTHCHECK's probe as argv (undefined for NONE), its options dropped. */
export function healthcheck(stage: Stage): string[] | undefined {
  const args = last(stage, 'HEALTHCHECK');
  if (args === undefined) return undefined;
  const rest = args.replace(/^(--\S+\s+)*/, '');
  if (/^NONE$/i.test(rest)) return undefined;
  const probe = /^CMD\s+(.*)$/is.exec(rest);
  if (!probe?.[1]) throw new Error(`unreadable HEALTHCHECK ${args}`);
  return command(probe[1]);
}
