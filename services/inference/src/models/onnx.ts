import { ProtoWriter } from './protobuf';

/**
 * ONNX messages (onnx/onnx.proto, proto2), only the fields the generated graphs use. Field
 * numbers are those of onnx.proto; the comments name each message and field.
 */

/** TensorProto.DataType */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** IR version 8 (ONNX 1.10+) with opset 13: well inside what onnxruntime 1.23 accepts. */
export const IR_VERSION = 8;
export const OPSET_VERSION = 13;

export type AttributeValue = number | string | number[] | { float: number };

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface Initializer {
  name: string;
  dims: number[];
  /** FLOAT data as float32, INT64 data as bigint. */
  data: Float32Array | BigInt64Array;
}

export interface ValueInfo {
  name: string;
  elemType: number;
  /** A number is a fixed dimension, a string a symbolic one; absent when unknown. */
  shape?: (number | string)[];
}

/** AttributeProto: name=1, f=2, i=3, s=4, floats=7, ints=8, type=20 */
function attribute(name: string, value: AttributeValue): Buffer {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    w.int(3, value).int(20, AttributeType.INT);
  } else if (typeof value === 'string') {
    w.string(4, value).int(20, AttributeType.STRING);
  } else if (Array.isArray(value)) {
    w.repeatedInts(8, value).int(20, AttributeType.INTS);
  } else {
    w.float(2, value.float).int(20, AttributeType.FLOAT);
  }
  return w.finish();
}

/** NodeProto: input=1, output=2, name=3, op_type=4, attribute=5 */
function node(spec: NodeSpec): Buffer {
  const w = new ProtoWriter();
  for (const i of spec.inputs) w.string(1, i);
  for (const o of spec.outputs) w.string(2, o);
  if (spec.name) w.string(3, spec.name);
  w.string(4, spec.opType);
  for (const [k, v] of Object.entries(spec.attributes ?? {})) w.message(5, attribute(k, v));
  return w.finish();
}

/** Little-endian bytes of a typed array, whatever the host byte order. */
function littleEndianBytes(data: Float32Array | BigInt64Array): Buffer {
  const out = Buffer.alloc(data.byteLength);
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], i * 4);
  else for (let i = 0; i < data.length; i++) out.writeBigInt64LE(data[i], i * 8);
  return out;
}

/** TensorProto: dims=1, data_type=2, name=8, raw_data=9 */
function tensor(init: Initializer): Buffer {
  const count = init.dims.reduce((a, b) => a * b, 1);
  if (count !== init.data.length) throw new Error(`initializer ${init.name}: dims ${init.dims} need ${count} values, got ${init.data.length}`);
  return new ProtoWriter()
    .repeatedInts(1, init.dims)
    .int(2, init.data instanceof Float32Array ? DataType.FLOAT : DataType.INT64)
    .string(8, init.name)
    .bytes(9, littleEndianBytes(init.data))
    .finish();
}

/**
 * ValueInfoProto: name=1, type=2 → TypeProto: tensor_type=1 → TypeProto.Tensor: elem_type=1,
 * shape=2 → TensorShapeProto: dim=1 → Dimension: dim_value=1, dim_param=2
 */
function valueInfo(v: ValueInfo): Buffer {
  const tensorType = new ProtoWriter().int(1, v.elemType);
  if (v.shape) {
    const shape = new ProtoWriter();
    for (const d of v.shape) {
      shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d).finish() : new ProtoWriter().string(2, d).finish());
    }
    tensorType.message(2, shape.finish());
  }
  const type = new ProtoWriter().message(1, tensorType.finish()).finish();
  return new ProtoWriter().string(1, v.name).message(2, type).finish();
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  docString?: string;
}

/** GraphProto: node=1, name=2, initializer=5, doc_string=10, input=11, output=12 */
function graph(g: GraphSpec): Buffer {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, node(n));
  w.string(2, g.name);
  for (const i of g.initializers) w.message(5, tensor(i));
  if (g.docString) w.string(10, g.docString);
  for (const i of g.inputs) w.message(11, valueInfo(i));
  for (const o of g.outputs) w.message(12, valueInfo(o));
  return w.finish();
}

export interface ModelSpec {
  graph: GraphSpec;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/**
 * ModelProto: ir_version=1, producer_name=2, producer_version=3, doc_string=6, graph=7,
 * opset_import=8 (OperatorSetIdProto: domain=1, version=2), metadata_props=14
 * (StringStringEntryProto: key=1, value=2)
 */
export function encodeModel(m: ModelSpec): Buffer {
  const w = new ProtoWriter()
    .int(1, IR_VERSION)
    .string(2, m.producerName)
    .string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, graph(m.graph));
  w.message(8, new ProtoWriter().string(1, '').int(2, OPSET_VERSION).finish());
  for (const [key, value] of Object.entries(m.metadata ?? {})) {
    w.message(14, new ProtoWriter().string(1, key).string(2, value).finish());
  }
  return w.finish();
}
