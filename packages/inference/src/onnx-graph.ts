/**
 * A minimal ONNX (protobuf) rewrite: turn a classifier into a feature extractor.
 *
 * Public pretrained ResNet-50 ONNX files end in `GlobalAveragePool -> Flatten -> Gemm` and
 * expose only the 1000 class scores. Search needs the 2048-d pooled feature in front of the
 * Gemm, and ONNX Runtime can only return declared graph outputs, so the loader rewrites the
 * graph in memory: the final Gemm (or MatMul, or MatMul + Add) becomes an Identity of its data
 * input, the graph output is redeclared as `[N, dims]` float, and the classifier's weights are
 * dropped. The file on disk stays byte-for-byte what was downloaded, so its published sha256
 * remains verifiable. Protobuf allows this without a schema library: only the handful of
 * fields named below are decoded; everything else is copied through untouched.
 */

// Field numbers from onnx.proto3.
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP_TYPE = 4;
const TENSOR_NAME = 8;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_TYPE_ELEM = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_VALUE = 1;
const DIM_PARAM = 2;
const FLOAT = 1;

interface Field {
  no: number;
  wire: number;
  /** The whole field, tag included, for copying through. */
  raw: Uint8Array;
  /** Payload of a length-delimited field. */
  value: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    result += (b & 0x7f) * mul;
    if (b < 0x80) return [result, pos];
    mul *= 128;
  }
}

function parse(buf: Uint8Array): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    let value: Uint8Array = new Uint8Array(0);
    if (wire === 0) pos = readVarint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      value = buf.subarray(p2, p2 + len);
      pos = p2 + len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (pos > buf.length) throw new Error('truncated protobuf field');
    fields.push({ no, wire, raw: buf.subarray(start, pos), value });
  }
  return fields;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lenField(no: number, payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.from([...varint(no * 8 + 2), ...varint(payload.length)]), payload]);
}

function varintField(no: number, n: number): Uint8Array {
  return Uint8Array.from([...varint(no * 8), ...varint(n)]);
}

const text = new TextDecoder();
const bytes = (s: string) => new TextEncoder().encode(s);
const strings = (fields: Field[], no: number) =>
  fields.filter((f) => f.no === no).map((f) => text.decode(f.value));

interface Node {
  field: Field;
  inputs: string[];
  outputs: string[];
  opType: string;
}

/**
 * Rewrite `model` (ONNX bytes) so its only output is the classifier's input, named `outputName`
 * with shape [N, dims]. Throws with `where` in the message when the graph does not end in a
 * recognised classifier.
 */
export function stripClassifier(
  model: Uint8Array,
  outputName: string,
  dims: number,
  where: string,
): Uint8Array {
  const top = parse(model);
  const graphField = top.find((f) => f.no === MODEL_GRAPH);
  if (!graphField) throw new Error(`${where}: the ONNX file has no graph`);
  const graph = parse(graphField.value);
  const outputs = graph.filter((f) => f.no === GRAPH_OUTPUT);
  const [output, ...others] = outputs;
  if (!output || others.length > 0)
    throw new Error(`${where}: expected one graph output to replace, found ${outputs.length}`);
  const finalName = strings(parse(output.value), VALUE_INFO_NAME)[0];
  const nodeOf = new Map<Field, Node>();
  const nodes: Node[] = graph
    .filter((f) => f.no === GRAPH_NODE)
    .map((field) => {
      const n = parse(field.value);
      const node = {
        field,
        inputs: strings(n, NODE_INPUT),
        outputs: strings(n, NODE_OUTPUT),
        opType: strings(n, NODE_OP_TYPE)[0] ?? '',
      };
      nodeOf.set(field, node);
      return node;
    });
  const producer = (name: string) => nodes.find((n) => n.outputs.includes(name));
  let last = finalName === undefined ? undefined : producer(finalName);
  const removed = new Set<Node>();
  if (last?.opType === 'Add') {
    // MatMul + Add (bias) as some exporters write a Linear layer.
    removed.add(last);
    last = last.inputs.map(producer).find((n) => n?.opType === 'MatMul');
  }
  if (!last || (last.opType !== 'Gemm' && last.opType !== 'MatMul')) {
    throw new Error(
      `${where}: the graph output is not produced by a Gemm/MatMul classifier, cannot strip it`,
    );
  }
  removed.add(last);
  const feature = last.inputs[0];
  if (!feature) throw new Error(`${where}: the classifier node has no input`);

  const identity = lenField(
    GRAPH_NODE,
    concat([
      lenField(NODE_INPUT, bytes(feature)),
      lenField(NODE_OUTPUT, bytes(outputName)),
      lenField(NODE_NAME, bytes('lookalike_strip_classifier')),
      lenField(NODE_OP_TYPE, bytes('Identity')),
    ]),
  );
  const shape = concat([
    lenField(SHAPE_DIM, lenField(DIM_PARAM, bytes('N'))),
    lenField(SHAPE_DIM, varintField(DIM_VALUE, dims)),
  ]);
  const valueInfo = lenField(
    GRAPH_OUTPUT,
    concat([
      lenField(VALUE_INFO_NAME, bytes(outputName)),
      lenField(
        VALUE_INFO_TYPE,
        lenField(
          TYPE_TENSOR,
          concat([varintField(TENSOR_TYPE_ELEM, FLOAT), lenField(TENSOR_TYPE_SHAPE, shape)]),
        ),
      ),
    ]),
  );
  const kept = nodes.filter((n) => !removed.has(n));
  const used = new Set<string>([feature, ...kept.flatMap((n) => n.inputs)]);
  const graphInputs = new Set(
    graph
      .filter((f) => f.no === GRAPH_INPUT)
      .flatMap((f) => strings(parse(f.value), VALUE_INFO_NAME)),
  );
  // Only the removed nodes' own weights go; anything else (even if it looks unused) stays.
  const droppable = new Set(
    [...removed]
      .flatMap((n) => n.inputs)
      .filter((name) => !used.has(name) && !graphInputs.has(name)),
  );
  const parts: Uint8Array[] = [];
  let nodeInserted = false;
  for (const f of graph) {
    if (f.no === GRAPH_NODE) {
      const node = nodeOf.get(f);
      if (node && removed.has(node)) {
        if (!nodeInserted) {
          parts.push(identity);
          nodeInserted = true;
        }
        continue;
      }
    } else if (f.no === GRAPH_OUTPUT) {
      parts.push(valueInfo);
      continue;
    } else if (f.no === GRAPH_INITIALIZER) {
      // Drop the classifier's weights (unused initializers also make ONNX Runtime log warnings).
      const name = strings(parse(f.value), TENSOR_NAME)[0] ?? '';
      if (droppable.has(name)) continue;
    }
    parts.push(f.raw);
  }
  const newGraph = concat(parts);
  return concat(top.map((f) => (f.no === MODEL_GRAPH ? lenField(MODEL_GRAPH, newGraph) : f.raw)));
}
