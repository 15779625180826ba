import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getDMMF } from '@prisma/get-dmmf';
import type { SqlDriver } from '../driver.js';

export const schemaPath = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  '..',
  '..',
  'prisma',
  'schema.prisma',
);

/** tables -> columns -> "type [null]"; tables -> unique column sets; enums -> values. */
export interface SchemaShape {
  columns: Map<string, Map<string, string>>;
  uniques: Map<string, Set<string>>;
  enums: Map<string, string>;
}

// How Prisma maps scalar types to Postgres when no @db attribute is given.
const DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3)',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function nativeType(name: string, args: readonly string[]): string {
  switch (name) {
    case 'Uuid':
      return 'uuid';
    case 'Char':
      return `character(${args[0] ?? 1})`;
    case 'VarChar':
      return args[0] ? `character varying(${args[0]})` : 'character varying';
    case 'Decimal':
      return `numeric(${args.join(',')})`;
    case 'Timestamptz':
      return `timestamptz(${args[0] ?? 6})`;
    case 'Timestamp':
      return `timestamp(${args[0] ?? 6})`;
    case 'Text':
      return 'text';
    case 'Integer':
      return 'integer';
    case 'DoublePrecision':
      return 'double precision';
    default:
      return name.toLowerCase();
  }
}

/** `Unsupported("...")` fields, which Prisma's DMMF leaves out. */
function unsupportedFields(
  schema: string,
): { model: string; column: string; type: string; required: boolean }[] {
  const found = [];
  for (const block of schema.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    for (const line of (block[2] ?? '').split('\n')) {
      const m = /^\s*(\w+)\s+Unsupported\("([^"]+)"\)(\?)?(.*)$/.exec(line);
      if (!m) continue;
      const mapped = /@map\("([^"]+)"\)/.exec(m[4] ?? '');
      found.push({
        model: block[1] ?? '',
        column: mapped?.[1] ?? m[1] ?? '',
        type: m[2] ?? '',
        required: !m[3],
      });
    }
  }
  return found;
}

/** What schema.prisma says the database must look like. */
export async function expectedShape(file = schemaPath): Promise<SchemaShape> {
  const schema = await readFile(file, 'utf8');
  const dmmf = getDMMF({ datamodel: schema });
  if ('reason' in dmmf) throw new Error(`schema.prisma does not parse: ${dmmf.reason}`);
  const { datamodel } = dmmf;
  const shape: SchemaShape = { columns: new Map(), uniques: new Map(), enums: new Map() };
  for (const e of datamodel.enums) {
    shape.enums.set(e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name).join(','));
  }
  const tableOf = new Map<string, string>();
  for (const model of datamodel.models) {
    const table = model.dbName ?? model.name;
    tableOf.set(model.name, table);
    const columns = new Map<string, string>();
    const columnOf = new Map<string, string>();
    const uniques = new Set<string>();
    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      const column = field.dbName ?? field.name;
      columnOf.set(field.name, column);
      let type: string;
      if (field.kind === 'enum') type = field.type;
      else if (field.nativeType) type = nativeType(field.nativeType[0], field.nativeType[1]);
      else type = DEFAULT_TYPES[field.type] ?? `unknown:${field.type}`;
      if (field.isList) type += '[]';
      // Prisma creates list columns without NOT NULL.
      const nullable = !field.isRequired || field.isList;
      columns.set(column, `${type}${nullable ? ' null' : ''}`);
      if (field.isUnique || field.isId) uniques.add(column);
    }
    const cols = (names: readonly string[]) => names.map((n) => columnOf.get(n) ?? n).join(',');
    for (const fields of model.uniqueFields) uniques.add(cols(fields));
    if (model.primaryKey) uniques.add(cols(model.primaryKey.fields));
    shape.columns.set(table, columns);
    shape.uniques.set(table, uniques);
  }
  for (const u of unsupportedFields(schema)) {
    shape.columns
      .get(tableOf.get(u.model) ?? u.model)
      ?.set(u.column, `${u.type}${u.required ? '' : ' null'}`);
  }
  return shape;
}

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  udt_name: string;
  is_nullable: 'YES' | 'NO';
  character_maximum_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  datetime_precision: number | null;
}

function dbType(c: ColumnRow): string {
  switch (c.data_type) {
    case 'USER-DEFINED':
      return c.udt_name;
    case 'ARRAY':
      return `${c.udt_name.replace(/^_/, '')}[]`;
    case 'character':
      return `character(${c.character_maximum_length ?? 1})`;
    case 'character varying':
      return c.character_maximum_length
        ? `character varying(${c.character_maximum_length})`
        : 'character varying';
    case 'numeric':
      return `numeric(${c.numeric_precision ?? ''},${c.numeric_scale ?? ''})`;
    case 'timestamp with time zone':
      return `timestamptz(${c.datetime_precision ?? 6})`;
    case 'timestamp without time zone':
      return `timestamp(${c.datetime_precision ?? 6})`;
    default:
      return c.data_type;
  }
}

/** What the migrated database looks like (schema `public`, Prisma's bookkeeping left out). */
export async function actualShape(driver: SqlDriver): Promise<SchemaShape> {
  return driver.withSession(async (s) => {
    const shape: SchemaShape = { columns: new Map(), uniques: new Map(), enums: new Map() };
    const columns = await s.query<ColumnRow>(
      `SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable,
              c.character_maximum_length, c.numeric_precision, c.numeric_scale, c.datetime_precision
         FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
          AND c.table_name <> '_prisma_migrations'`,
    );
    for (const c of columns) {
      const table = shape.columns.get(c.table_name) ?? new Map<string, string>();
      table.set(c.column_name, `${dbType(c)}${c.is_nullable === 'YES' ? ' null' : ''}`);
      shape.columns.set(c.table_name, table);
      if (!shape.uniques.has(c.table_name)) shape.uniques.set(c.table_name, new Set());
    }
    // Unique indexes on plain columns (primary keys included; partial and expression indexes,
    // such as the per-model HNSW indexes, are not constraints of the data model).
    const uniques = await s.query<{ table_name: string; columns: string }>(
      `SELECT t.relname AS table_name,
              string_agg(a.attname, ',' ORDER BY k.ord) AS columns
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE n.nspname = 'public' AND i.indisunique AND i.indpred IS NULL
          AND i.indexprs IS NULL AND t.relname <> '_prisma_migrations'
        GROUP BY t.relname, i.indexrelid`,
    );
    for (const u of uniques) shape.uniques.get(u.table_name)?.add(u.columns);
    const enums = await s.query<{ name: string; labels: string }>(
      `SELECT t.typname AS name, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS labels
         FROM pg_type t
         JOIN pg_enum e ON e.enumtypid = t.oid
         JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public'
        GROUP BY t.typname`,
    );
    for (const e of enums) shape.enums.set(e.name, e.labels);
    return shape;
  });
}

/** Every disagreement between schema.prisma and the database, as readable lines. */
export function diffShapes(expected: SchemaShape, actual: SchemaShape): string[] {
  const problems: string[] = [];
  const tables = new Set([...expected.columns.keys(), ...actual.columns.keys()]);
  for (const table of [...tables].sort()) {
    const want = expected.columns.get(table);
    const have = actual.columns.get(table);
    if (!want) {
      problems.push(`table ${table} exists in the database but not in schema.prisma`);
      continue;
    }
    if (!have) {
      problems.push(`table ${table} is in schema.prisma but missing from the database`);
      continue;
    }
    for (const column of new Set([...want.keys(), ...have.keys()])) {
      const w = want.get(column);
      const h = have.get(column);
      if (w === undefined)
        problems.push(`column ${table}.${column} (${h ?? ''}) is not in schema.prisma`);
      else if (h === undefined)
        problems.push(`column ${table}.${column} (${w}) is missing from the database`);
      else if (w !== h)
        problems.push(`column ${table}.${column}: schema.prisma says "${w}", database has "${h}"`);
    }
    const wu = expected.uniques.get(table) ?? new Set<string>();
    const hu = actual.uniques.get(table) ?? new Set<string>();
    for (const u of wu)
      if (!hu.has(u)) problems.push(`unique (${u}) on ${table} is missing from the database`);
    for (const u of hu)
      if (!wu.has(u)) problems.push(`unique (${u}) on ${table} is not in schema.prisma`);
  }
  for (const name of new Set([...expected.enums.keys(), ...actual.enums.keys()])) {
    const w = expected.enums.get(name);
    const h = actual.enums.get(name);
    if (w !== h)
      problems.push(
        `enum ${name}: schema.prisma says [${w ?? 'none'}], database has [${h ?? 'none'}]`,
      );
  }
  return problems;
}
