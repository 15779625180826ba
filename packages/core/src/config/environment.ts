/**
 * The models a process loads when MODELS is unset: the bundled embedder first (what a fresh
 * database serves), and the bundled colour-layout model beside it, so a new installation can
 * try a re-index and a switch. A loaded model costs a worker thread and nothing else until a
 * merchant re-indexes with it. The API and the worker load the same ones.
 */
export const DEFAULT_MODELS: readonly string[] = ['fashion-resnet', 'colour-thumbnail'];

/** What parseEnvironment needs of a schema (zod's `safeParse`), without tying core to zod. */
export interface EnvironmentSchema<T> {
  safeParse(input: unknown):
    | { success: true; data: T }
    | {
        success: false;
        error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
      };
}

/**
 * Parse a process's environment once, at boot: unset and empty variables are absent, and a bad
 * value stops the process with every offending variable's name and why.
 */
export function parseEnvironment<T>(
  schema: EnvironmentSchema<T>,
  env: Record<string, string | undefined>,
): T {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.map(String).join('.')}: ${i.message}`);
    throw new Error(`Invalid environment:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
