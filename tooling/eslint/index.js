import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Shared flat config: typescript-eslint's type-checked rules for every workspace.
 * `process.env` is read in one env module per app (docs/architecture.md); elsewhere it is banned.
 * @param {{ tsconfigRootDir: string, envFiles?: string[] }} options
 */
export function lookalike({ tsconfigRootDir, envFiles = [] }) {
  return tseslint.config(
    { ignores: ['dist/**', '.next/**', 'src/generated/**', 'coverage/**', 'next-env.d.ts'] },
    js.configs.recommended,
    ...tseslint.configs.strictTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir },
      },
      rules: {
        '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
        // type-graphql object types are shapes: resolvers return plain objects, by design.
        '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
        'no-restricted-syntax': [
          'error',
          {
            selector: 'ExportDefaultDeclaration',
            message: 'Use named exports (docs/architecture.md).',
          },
        ],
        'no-restricted-properties': [
          'error',
          { object: 'process', property: 'env', message: 'Read configuration in env.ts only.' },
        ],
      },
    },
    {
      files: ['**/*.test.ts', '**/*.config.ts', '**/testing/**', ...envFiles],
      rules: {
        'no-restricted-properties': 'off',
        '@typescript-eslint/no-non-null-assertion': 'off',
      },
    },
    {
      files: ['**/*.js', '**/*.mjs', '**/*.config.ts'],
      ...tseslint.configs.disableTypeChecked,
    },
    {
      // Plain Node scripts (build helpers): they read their own environment.
      files: ['scripts/**/*.mjs', '**/*.mjs'],
      languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
      rules: { 'no-restricted-properties': 'off' },
    },
    {
      files: ['**/*.config.ts', '**/*.config.js', '**/*.config.mjs'],
      rules: { 'no-restricted-syntax': 'off' },
    },
  );
}
