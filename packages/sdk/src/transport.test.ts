import { describe, expect, it } from 'vitest';
import { LookalikeError } from './errors.js';
import { encodeRequest, extractFiles, GraphQLClient, MAX_VARIABLE_DEPTH } from './transport.js';

/** `{ a: { a: ... value } }`, `depth` objects deep. */
function nested(depth: number, value: unknown = 1): Record<string, unknown> {
  let node: unknown = value;
  for (let i = 0; i < depth; i++) node = { a: node };
  return node as Record<string, unknown>;
}

describe('extractFiles', () => {
  it('replaces every Blob with null, in document order, and copies the rest', () => {
    const first = new Blob(['1']);
    const second = new File(['2'], 'two.jpg');
    const variables = { input: { image: first, tags: ['x', { photo: second }] }, n: 3 };
    const out = extractFiles(variables);
    expect(out.variables).toEqual({ input: { image: null, tags: ['x', { photo: null }] }, n: 3 });
    expect(out.files.map((f) => f.path)).toEqual([
      ['input', 'image'],
      ['input', 'tags', 1, 'photo'],
    ]);
    expect(out.files[0]?.file).toBe(first);
    expect(variables.input.image).toBe(first);
  });

  it('leaves values that are not plain objects as JSON sends them (a Date as its ISO text)', () => {
    const at = new Date('2026-01-02T03:04:05Z');
    const out = extractFiles({ at, file: new Blob(['x']) });
    expect(JSON.parse(JSON.stringify(out.variables))).toEqual({
      at: '2026-01-02T03:04:05.000Z',
      file: null,
    });
  });

  it('encodes variables as deep as it allows, and refuses one level more with the path', () => {
    expect(() => extractFiles({ v: nested(MAX_VARIABLE_DEPTH - 1) })).not.toThrow();
    let error: unknown;
    try {
      extractFiles({ v: nested(MAX_VARIABLE_DEPTH) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LookalikeError);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', status: 0 });
    const field = (error as LookalikeError).field ?? '';
    expect(field).toBe(
      ['variables', 'v', ...Array<string>(MAX_VARIABLE_DEPTH - 1).fill('a')].join('.'),
    );
    expect((error as Error).message).toContain(`deeper than ${MAX_VARIABLE_DEPTH} levels`);
  });

  it('refuses 10,000 levels of objects or arrays with BAD_USER_INPUT, not a stack overflow', () => {
    let array: unknown = [];
    for (let i = 0; i < 10_000; i++) array = [array];
    for (const variables of [{ labels: nested(10_000) }, { labels: array }]) {
      expect(() => encodeRequest('query { x }', variables)).toThrow(
        expect.objectContaining({ code: 'BAD_USER_INPUT' }) as Error,
      );
    }
  });

  it('refuses variables that contain themselves, and still sends a value shared twice', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    expect(() => extractFiles({ input: loop })).toThrow(
      /contain themselves at variables\.input\.self/,
    );
    const shared = { colour: 'red' };
    expect(extractFiles({ a: shared, b: [shared] }).variables).toEqual({
      a: { colour: 'red' },
      b: [{ colour: 'red' }],
    });
  });
});

describe('GraphQLClient', () => {
  it('refuses too-deep variables before any request is made', async () => {
    let requests = 0;
    const client = new GraphQLClient('http://127.0.0.1:9', undefined, () => {
      requests += 1;
      return Promise.resolve(new Response('{}'));
    });
    await expect(client.query('query { x }', { labels: nested(10_000) })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    expect(requests).toBe(0);
  });
});
