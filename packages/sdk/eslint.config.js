import { lookalike } from '@lookalike/eslint-config';

export default [
  ...lookalike({ tsconfigRootDir: import.meta.dirname, envFiles: ['src/cli/env.ts'] }),
  // Written by GraphQL Code Generator (codegen.ts); checked by src/generated.test.ts instead.
  { ignores: ['src/generated/**'] },
];
