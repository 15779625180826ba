import type { TestProjectInlineConfiguration, UserWorkspaceConfig } from 'vitest/config';

export function project(test: TestProjectInlineConfiguration['test']): UserWorkspaceConfig;

/** Holds `name` for this checkout across worker processes until the returned release(). */
export function exclusive(
  name: string,
  options?: { pollMs?: number },
): Promise<() => Promise<void>>;

/** A TCP port on 127.0.0.1 that was free a moment ago (for a child process to listen on). */
export function freePort(): Promise<number>;
