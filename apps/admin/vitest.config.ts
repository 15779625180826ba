import path from 'node:path';
import { project } from '@lookalike/vitest-config';

export default project({
  // `server-only` throws outside a React Server Components bundle; in tests it is a no-op.
  alias: { 'server-only': path.resolve(import.meta.dirname, 'src/testing/server-only-stub.ts') },
});
