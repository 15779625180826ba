// @lookalike/api: the GraphQL server factory. Everything behind it is @lookalike/core's.
export type { ApiConfig } from './env.js';
export { createServer, type ApiServer, type CreateServerOptions, type Logger } from './server.js';
