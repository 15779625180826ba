import type { TestProjectInlineConfiguration, UserWorkspaceConfig } from 'vitest/config';

export function project(test: TestProjectInlineConfiguration['test']): UserWorkspaceConfig;
