import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type AuthChecker } from 'type-graphql';
import type { Context } from '../context.js';
import { apiError, ErrorCode } from '../errors.js';
import { ApiKeyResolver } from '../resolvers/api-key.resolver.js';
import { ProductResolver } from '../resolvers/product.resolver.js';
import { SearchResolver } from '../resolvers/search.resolver.js';
import { SettingsResolver } from '../resolvers/settings.resolver.js';
import type { Services } from '../services/index.js';
import type { ApiScope } from '../types/enums.js';

export const resolvers = [
  SearchResolver,
  ProductResolver,
  SettingsResolver,
  ApiKeyResolver,
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

/** The schema, with resolvers bound to this server's services. */
export async function createSchema(services: Services | null): Promise<GraphQLSchema> {
  const instances = new Map<unknown, unknown>(
    resolvers.map((R) => [R, services ? new R(services) : null]),
  );
  return buildSchema({
    resolvers,
    authChecker,
    container: { get: (someClass) => instances.get(someClass) },
    validate: false,
  });
}
