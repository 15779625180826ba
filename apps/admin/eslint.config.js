import { lookalike } from '@lookalike/eslint-config';

export default [
  ...lookalike({ tsconfigRootDir: import.meta.dirname, envFiles: ['src/env.ts'] }),
  {
    // Next.js's file conventions require default exports (pages, layouts, config).
    files: [
      'src/app/**/{page,layout,loading,error,not-found,global-error,template,default}.tsx',
      'next.config.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
];
