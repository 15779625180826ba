/** A task a worker runs on start and then every interval. */
export interface PeriodicTask<T> {
  /** Run it now, or join the run in progress. */
  runNow(): Promise<T | undefined>;
  /** No further runs; resolves when the one in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Run `task` at once (in the background: a backlog never delays the worker's start) and then
 * `intervalMs` after each run ends. A failed run is logged and the next one still comes; the
 * timer does not keep the process alive.
 */
export function startPeriodic<T>(
  name: string,
  task: () => Promise<T>,
  { intervalMs, log }: { intervalMs: number; log: (message: string) => void },
): PeriodicTask<T> {
  let running: Promise<T | undefined> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void runNow(), intervalMs);
    timer.unref();
  };
  const runNow = (): Promise<T | undefined> => {
    running ??= task()
      .catch((error: unknown) => {
        log(`[worker] ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      })
      .finally(() => {
        running = undefined;
        schedule();
      });
    return running;
  };
  void runNow();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      clearTimeout(timer);
    },
  };
}
