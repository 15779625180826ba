/**
 * Runs once when the server starts: a bad environment stops it, exit 1, with the variable's name
 * (Next.js itself would log the error and go on serving). Next.js compiles this file for its edge
 * runtime as well (`next dev` does), where env.ts cannot load (node:fs); NEXT_RUNTIME is
 * replaced at build time, so that bundle drops the import.
 */
export async function register(): Promise<void> {
  // eslint-disable-next-line no-restricted-properties -- Next.js's build-time constant, not our config
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  const { env } = await import('./env');
  try {
    env();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
