import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import {
  Kind,
  Lexer,
  Source,
  TokenKind,
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
  /** Braces, brackets and parentheses open at once in a document, checked before it is parsed. */
  maxNesting: number;
  /** Fragment definitions in a document, checked before it is parsed. */
  maxFragments: number;
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
export const DEFAULT_LIMITS: QueryLimits = {
  maxDepth: 10,
  maxAliases: 30,
  maxComplexity: 20_000,
  // graphql-js parses (and graphql-scalars reads a JSON literal) by recursion: a document of
  // 10,000 nested brackets overflows the stack before any validation rule sees it. The deepest
  // document the limits allow is 10 levels of selection braces, plus an argument's parenthesis,
  // list and input object around labels five levels deep (8): 18; 32 leaves room.
  maxNesting: 32,
  // graphql-js validates fragment spreads by recursion too (NoFragmentCycles): a chain of
  // 10,000 fragments, each spreading the next (370 KB), overflows the stack inside validation,
  // an unexpected error. The SDK's largest document has 6; 100 keeps any chain far from it.
  maxFragments: 100,
};

/**
 * The depth of a selection set. Each fragment's depth is computed once (`memo`): a fragment's
 * depth does not depend on where it is spread, and without the memo fragments that each spread
 * the next one twice cost 2^n steps (30 such fragments, a request of 2 KB, held the event loop
 * for minutes).
 */
function depthOf(
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  memo: Map<string, number>,
): number {
  if (!set) return 0;
  let max = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      max = Math.max(max, 1 + depthOf(selection.selectionSet, fragments, memo));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(selection.selectionSet, fragments, memo));
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment) continue;
      let depth = memo.get(name);
      if (depth === undefined) {
        // In progress: a cycle adds nothing here (graphql-js reports cycles itself).
        memo.set(name, 0);
        depth = depthOf(fragment.selectionSet, fragments, memo);
        memo.set(name, depth);
      }
      max = Math.max(max, depth);
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
        const depth = depthOf(node.selectionSet, fragments, new Map());
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

const OPENING: ReadonlySet<TokenKind> = new Set([
  TokenKind.BRACE_L,
  TokenKind.BRACKET_L,
  TokenKind.PAREN_L,
]);
const CLOSING: ReadonlySet<TokenKind> = new Set([
  TokenKind.BRACE_R,
  TokenKind.BRACKET_R,
  TokenKind.PAREN_R,
]);

/** What a document asks of the parser, counted before it is parsed. */
export interface DocumentShape {
  /** The deepest nesting of braces, brackets and parentheses (counting stops past the limit). */
  nesting: number;
  /** Fragment definitions (counting stops past the limit). */
  fragments: number;
}

/**
 * The document counted token by token (graphql's lexer is a loop, not a recursion), stopping
 * as soon as a limit is passed. A document the lexer refuses counts nothing: the parser
 * reports its syntax error.
 */
export function shapeOf(
  query: string,
  limits: Pick<QueryLimits, 'maxNesting' | 'maxFragments'>,
): DocumentShape {
  const lexer = new Lexer(new Source(query));
  let depth = 0;
  const shape: DocumentShape = { nesting: 0, fragments: 0 };
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (OPENING.has(token.kind)) {
        depth++;
        shape.nesting = Math.max(shape.nesting, depth);
        if (shape.nesting > limits.maxNesting) return shape;
      } else if (CLOSING.has(token.kind)) {
        depth--;
      } else if (depth === 0 && token.kind === TokenKind.NAME && token.value === 'fragment') {
        shape.fragments++;
        if (shape.fragments > limits.maxFragments) return shape;
      }
    }
  } catch {
    return { nesting: 0, fragments: 0 };
  }
  return shape;
}

/**
 * Refuses, with BAD_USER_INPUT, a document nested deeper than `maxNesting` or defining more
 * than `maxFragments` fragments, before Apollo parses and validates it (both recurse);
 * GET requests carry theirs in the query string.
 */
export function documentLimits(
  limits: Pick<QueryLimits, 'maxNesting' | 'maxFragments'>,
): RequestHandler {
  return (req, res, next) => {
    const query: unknown =
      req.method === 'GET'
        ? (req.query as Record<string, unknown>).query
        : (req.body as { query?: unknown } | undefined)?.query;
    if (typeof query !== 'string') {
      next();
      return;
    }
    const shape = shapeOf(query, limits);
    const refusal =
      shape.nesting > limits.maxNesting
        ? `The document nests braces, brackets and parentheses more than ${limits.maxNesting} levels deep; the limit is ${limits.maxNesting}`
        : shape.fragments > limits.maxFragments
          ? `The document defines more than ${limits.maxFragments} fragments; the limit is ${limits.maxFragments}`
          : null;
    if (refusal) {
      res
        .status(400)
        .json({ errors: [{ message: refusal, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
      return;
    }
    next();
  };
}
