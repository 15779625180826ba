import { project } from '@lookalike/vitest-config';

export default project({ name: 'deploy' });
