import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  GraphQLError,
} from 'graphql';
import { createRequire } from 'node:module';

// graphql-query-complexity's ESM build imports graphql's ESM files, while type-graphql, Apollo
// and this code share graphql's CommonJS build; graphql refuses to mix the two ("from another
// module or realm"). Its CommonJS build requires the same graphql as everyone else.
const { fieldExtensionsEstimator, getComplexity, simpleEstimator } = createRequire(import.meta.url)(
  'graphql-query-complexity',
) as typeof import('graphql-query-complexity');
import { apiError, ErrorCode } from '../graphql/errors.js';

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxComplexity: number;
}

/**
 * Deep enough for every real query (products -> edges -> node -> images -> url is 5), far from
 * what a cyclic abuse query needs; aliases and complexity bound the fan-out of one request.
 * Complexity counts a field 1, a list `first` times its items, a product's images 5 times: a
 * full page of 100 products with every field and their images is about 4,000; 20,000 allows a
 * few such pages in one request and no more. similarProducts' `objects` counts as
 * MAX_OBJECT_SEARCHES (10) searches of `first` hits each (types/search.type.ts): with every
 * hit field, `first: 10` is about 3,200, `first: 50` about 16,000, and `first: 100` (about
 * 32,000) is refused.
 */
export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 10, maxAliases: 30, maxComplexity: 20_000 };

function depthOf(
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  seen: Set<string>,
): number {
  if (!set) return 0;
  let max = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      max = Math.max(max, 1 + depthOf(selection.selectionSet, fragments, seen));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(selection.selectionSet, fragments, seen));
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment || seen.has(name)) continue; // cycles are reported by graphql-js itself
      max = Math.max(max, depthOf(fragment.selectionSet, fragments, new Set([...seen, name])));
    }
  }
  return max;
}

export function depthLimit(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of context.getDocument().definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
    }
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`Query is ${depth} levels deep; the limit is ${maxDepth}`, {
              nodes: [node],
              extensions: { code: 'BAD_USER_INPUT' },
            }),
          );
        }
      },
    };
  };
}

export function aliasLimit(maxAliases: number) {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases++;
      },
      Document: {
        leave() {
          if (aliases > maxAliases) {
            context.reportError(
              new GraphQLError(`Query uses ${aliases} aliases; the limit is ${maxAliases}`, {
                extensions: { code: 'BAD_USER_INPUT' },
              }),
            );
          }
        },
      },
    };
  };
}

/** Complexity needs the variables (list sizes come from `first`), so it runs per request. */
export function complexityLimit(schema: GraphQLSchema, maxComplexity: number): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ request, document }) {
          let complexity: number;
          try {
            complexity = getComplexity({
              schema,
              operationName: request.operationName ?? undefined,
              query: document,
              variables: request.variables ?? {},
              estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch {
            // Variables that do not coerce: execution refuses them next, with Apollo's own
            // BAD_USER_INPUT and the variable's name; nothing runs.
            return Promise.resolve();
          }
          if (complexity > maxComplexity) {
            throw apiError(
              ErrorCode.BAD_USER_INPUT,
              `Query complexity ${complexity} exceeds the limit of ${maxComplexity}`,
              // Refused before execution, like a validation error: 400, not Apollo's default 500.
              { http: { status: 400 } },
            );
          }
          return Promise.resolve();
        },
      });
    },
  };
}
