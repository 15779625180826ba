export {
  ALL_SCOPES,
  generateApiKey,
  hashSecret,
  parseApiKey,
  type Principal,
} from './auth/api-key.service.js';
export type { BootstrapResult } from './bootstrap.js';
export { loadConfig, testConfig, type ApiConfig } from './env.js';
export { printSchemaSorted } from './schema/print.js';
export {
  consoleLogger,
  createServer,
  type ApiServer,
  type CreateServerOptions,
  type Logger,
} from './server.js';
export {
  FASHION_CATEGORIES,
  readFashionSample,
  type FashionSample,
} from './demo/fashion-sample.js';
export { COLOURS, renderCatalogImage, renderShopperPhoto, type Colour } from './demo/render.js';
export { seedDemoCatalog, type DemoSeedOptions } from './demo/seed.js';
export { GraphQLClient, type GraphQLResponse, type UploadFile } from './testing/client.js';
