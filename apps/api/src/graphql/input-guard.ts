import type { ApolloServerPlugin } from '@apollo/server';
import {
  BREAK,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import { FIELD_LIMITS } from '@lookalike/core';
import { GraphQLJSON } from 'graphql-scalars';
import { apiError, ErrorCode } from './errors.js';

/**
 * How deep a JSON value (`labels`, and a filter's `labels`) may nest objects and arrays, the
 * value itself being the first level: the rule imports apply to labels (FIELD_LIMITS.labelDepth),
 * whichever door a product comes through. Labels are matched by containment (`@>`), so a filter
 * never needs to be deeper than a label.
 */
export const MAX_JSON_DEPTH = FIELD_LIMITS.labelDepth;

/** What the guard refuses: the input's path (`input.labels.color`) and why. */
export interface InputProblem {
  field: string;
  message: string;
}

const NUL = '\u0000';

function nulProblem(field: string): InputProblem {
  // Postgres text and jsonb cannot hold U+0000: refused here, it would fail in the database.
  return { field, message: `${field} contains a NUL byte (U+0000), which text cannot hold` };
}

function depthProblem(field: string): InputProblem {
  return {
    field,
    message: `${field} is nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays; the limit is ${MAX_JSON_DEPTH}`,
  };
}

/** A JSON value given as a variable: every string and key, and its depth. No recursion. */
function jsonValueProblem(root: unknown, field: string): InputProblem | null {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value: root, path: field, depth: 0 },
  ];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { value, path, depth } = next;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return nulProblem(path);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth + 1 > MAX_JSON_DEPTH) return depthProblem(field);
    if (Array.isArray(value)) {
      value.forEach((item, i) =>
        stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }),
      );
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes(NUL)) return { field: path, message: `${path} has a key with a NUL byte` };
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}

/** A JSON value written in the document. Names cannot hold NUL; strings and depth can fail. */
function jsonLiteralProblem(root: ValueNode, field: string): InputProblem | null {
  const stack: { node: ValueNode; path: string; depth: number }[] = [
    { node: root, path: field, depth: 0 },
  ];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { node, path, depth } = next;
    if (node.kind === Kind.STRING) {
      if (node.value.includes(NUL)) return nulProblem(path);
    } else if (node.kind === Kind.LIST) {
      if (depth + 1 > MAX_JSON_DEPTH) return depthProblem(field);
      node.values.forEach((item, i) =>
        stack.push({ node: item, path: `${path}[${i}]`, depth: depth + 1 }),
      );
    } else if (node.kind === Kind.OBJECT) {
      if (depth + 1 > MAX_JSON_DEPTH) return depthProblem(field);
      for (const f of node.fields) {
        stack.push({ node: f.value, path: `${path}.${f.name.value}`, depth: depth + 1 });
      }
    }
  }
  return null;
}

/**
 * The variables, walked along their declared types: every String and ID, and each JSON value's
 * strings, keys and depth. Values that do not fit their type are left to graphql-js, which
 * refuses them next with the variable's name.
 */
export function findVariableProblem(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): InputProblem | null {
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    if (!type || !Object.hasOwn(variables, name)) continue;
    const stack: { type: GraphQLInputType; value: unknown; path: string }[] = [
      { type, value: variables[name], path: name },
    ];
    for (let next = stack.pop(); next; next = stack.pop()) {
      const { type, value, path } = next;
      if (value === null || value === undefined) continue;
      if (isNonNullType(type)) {
        stack.push({ type: type.ofType, value, path });
      } else if (isListType(type)) {
        const itemType = type.ofType;
        if (Array.isArray(value)) {
          value.forEach((item, i) =>
            stack.push({ type: itemType, value: item, path: `${path}[${i}]` }),
          );
        } else {
          stack.push({ type: itemType, value, path }); // one value stands for a list of one
        }
      } else if (isInputObjectType(type)) {
        if (typeof value !== 'object' || Array.isArray(value)) continue;
        const record = value as Record<string, unknown>;
        for (const field of Object.values(type.getFields())) {
          if (Object.hasOwn(record, field.name)) {
            stack.push({
              type: field.type,
              value: record[field.name],
              path: `${path}.${field.name}`,
            });
          }
        }
      } else if (type === GraphQLJSON) {
        const problem = jsonValueProblem(value, path);
        if (problem) return problem;
      } else if (typeof value === 'string' && value.includes(NUL)) {
        return nulProblem(path);
      }
    }
  }
  return null;
}

const VALUE_KINDS: ReadonlySet<string> = new Set([
  Kind.VARIABLE,
  Kind.INT,
  Kind.FLOAT,
  Kind.STRING,
  Kind.BOOLEAN,
  Kind.NULL,
  Kind.ENUM,
  Kind.LIST,
  Kind.OBJECT,
]);

/** The path segment a node adds (`input`, `.title`, `[2]`), or null when it adds none. */
function segmentOf(node: ASTNode, key: string | number | undefined): string | null {
  if (node.kind === Kind.ARGUMENT) return node.name.value;
  if (node.kind === Kind.VARIABLE_DEFINITION) return node.variable.name.value;
  if (node.kind === Kind.OBJECT_FIELD) return `.${node.name.value}`;
  // Values sit in arrays only as the items of a list.
  if (typeof key === 'number' && VALUE_KINDS.has(node.kind)) return `[${key}]`;
  return null;
}

/**
 * The values written in the document (arguments, variable defaults), along the types the
 * schema gives them: every string, and each JSON value's strings and depth. graphql's visitor
 * is iterative, and the document's nesting was bounded before it was parsed
 * (http/limits.ts documentLimits).
 */
export function findLiteralProblem(
  schema: GraphQLSchema,
  document: DocumentNode,
): InputProblem | null {
  const typeInfo = new TypeInfo(schema);
  const path: string[] = [];
  let problem: InputProblem | null = null;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      enter(node, key) {
        const segment = segmentOf(node, key);
        if (node.kind === Kind.STRING || node.kind === Kind.LIST || node.kind === Kind.OBJECT) {
          const field = path.join('') + (segment ?? '');
          if (getNamedType(typeInfo.getInputType()) === GraphQLJSON) {
            problem = jsonLiteralProblem(node, field);
            // The JSON value is checked whole; its parts have no schema type to visit with.
            return problem ? BREAK : false;
          }
          if (node.kind === Kind.STRING && node.value.includes(NUL)) {
            problem = nulProblem(field);
            return BREAK;
          }
        }
        if (segment !== null) path.push(segment);
        return undefined;
      },
      leave(node, key) {
        if (segmentOf(node, key) !== null) path.pop();
      },
    }),
  );
  return problem;
}

/**
 * The edge check of every operation's input, after validation and before anything runs:
 * text that Postgres cannot store (NUL) and JSON nested past MAX_JSON_DEPTH are refused with
 * BAD_USER_INPUT naming the input, in variables and in the document alike. One walk per
 * request instead of a check in every resolver, so no text field can be forgotten.
 */
export function inputGuard(): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ schema, document, operation, request }) {
          const problem =
            (operation ? findVariableProblem(schema, operation, request.variables ?? {}) : null) ??
            findLiteralProblem(schema, document);
          if (problem) {
            throw apiError(ErrorCode.BAD_USER_INPUT, problem.message, {
              field: problem.field,
              // Refused before execution, like a validation error: 400.
              http: { status: 400 },
            });
          }
          return Promise.resolve();
        },
      });
    },
  };
}
