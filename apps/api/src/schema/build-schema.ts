import 'reflect-metadata';
import type { Core } from '@lookalike/core';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type AuthChecker } from 'type-graphql';
import type { Context } from '../context.js';
import { apiError, ErrorCode } from '../graphql/errors.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { UploadReader } from '../http/uploads.js';
import { ApiKeyResolver } from '../resolvers/api-key.resolver.js';
import { ImportResolver } from '../resolvers/import.resolver.js';
import { MerchantResolver } from '../resolvers/merchant.resolver.js';
import { ModelResolver } from '../resolvers/model.resolver.js';
import { ProductResolver } from '../resolvers/product.resolver.js';
import { SearchResolver } from '../resolvers/search.resolver.js';
import { SettingsResolver } from '../resolvers/settings.resolver.js';
import { WebhookResolver } from '../resolvers/webhook.resolver.js';
import type { ApiScope } from '../types/enums.js';

export const resolvers = [
  SearchResolver,
  ProductResolver,
  SettingsResolver,
  ApiKeyResolver,
  ModelResolver,
  ImportResolver,
  WebhookResolver,
  MerchantResolver,
] as const;

/** Every scope an operation asks for must be on the key; the error names the missing one. */
const authChecker: AuthChecker<Context, ApiScope> = ({ context }, scopes) => {
  const missing = scopes.filter((s) => !context.principal.scopes.includes(s));
  if (missing.length > 0) {
    throw apiError(ErrorCode.FORBIDDEN, `This API key lacks the ${missing.join(', ')} scope`, {
      requiredScopes: missing,
    });
  }
  return true;
};

/** Each resolver gets the service it needs, nothing more. */
function instances(app: SchemaApp): Map<unknown, unknown> {
  const { core, readUpload: read } = app;
  return new Map<unknown, unknown>([
    [SearchResolver, new SearchResolver(core.search, read)],
    [ProductResolver, new ProductResolver(core.catalog, read)],
    [SettingsResolver, new SettingsResolver(core.settings, core.evaluation)],
    [ApiKeyResolver, new ApiKeyResolver(core.apiKeys, core.accounts)],
    [ModelResolver, new ModelResolver(core.models)],
    [ImportResolver, new ImportResolver(core.imports, app.readImport, app.importLimiter)],
    [WebhookResolver, new WebhookResolver(core.webhooks)],
    [MerchantResolver, new MerchantResolver(core.merchants)],
  ]);
}

export interface SchemaApp {
  core: Core;
  readUpload: UploadReader;
  /** Reads a catalog file (its own, larger limit). */
  readImport: UploadReader;
  /** The import rows budget per merchant. */
  importLimiter: RateLimiter;
}

/** The schema, with resolvers bound to the core (null: for printing the schema only). */
export async function createSchema(app: SchemaApp | null): Promise<GraphQLSchema> {
  const bound = app ? instances(app) : new Map<unknown, unknown>();
  return buildSchema({
    resolvers,
    authChecker,
    container: { get: (someClass) => bound.get(someClass) },
    validate: false,
  });
}
