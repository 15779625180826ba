import { lookalike } from '@lookalike/eslint-config';

export default lookalike({ tsconfigRootDir: import.meta.dirname });
