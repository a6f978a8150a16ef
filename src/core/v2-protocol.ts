import { UserError } from './errors.ts';

// Inference messages of the Open Inference Protocol (KServe v2 REST) with Triton's binary tensor
// data extension, as both sides speak them here: `footwear serve`'s infer route and the remote
// runtime. A message is one JSON object (request or response), optionally followed by the bytes
// of its binary tensors in the order the JSON lists them; the Inference-Header-Content-Length
// header then gives the JSON's length. Binary data is little-endian, row major, no padding; a
// BYTES element is a 4-byte little-endian length and its bytes. No Node APIs here.

/** The header that gives the JSON's length when binary tensor data follows it (lower case, as Node reports headers). */
export const HEADER_LENGTH = 'inference-header-content-length';

/** A message that breaks the protocol; the message says what was expected and what came. */
export class V2ProtocolError extends UserError {
  override name = 'V2ProtocolError';
}

/** Parameter values: the spec allows strings, numbers and booleans; footwear's metadata also publishes lists. */
export type Parameters = Record<string, unknown>;

/** FP32 elements, or BYTES elements: strings when they came as JSON, bytes when they came binary. */
export type TensorData = Float32Array | string[] | Uint8Array[];

export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Parameters;
  data: TensorData;
}

export interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

export interface InferRequest {
  id?: string;
  parameters?: Parameters;
  inputs: Tensor[];
  outputs?: RequestedOutput[];
}

export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}

/** A message ready to send: `parts` written in order are the body. */
export interface EncodedMessage {
  parts: Uint8Array[];
  /** The JSON's length, set when binary data follows it (the Inference-Header-Content-Length value). */
  headerLength?: number;
  byteLength: number;
}

/** The datatypes footwear reads and writes: a classifier takes FP32 tensors or BYTES images and gives FP32 scores or BYTES classifications. */
const DATATYPES = new Set(['FP32', 'BYTES']);
/** A tensor of more elements than this cannot be meant (4 G elements); refusing it early keeps a shape from sizing an allocation. */
const MAX_ELEMENTS = 2 ** 32;
/** Nesting deeper than any tensor footwear takes (a [N, H, W, C] image batch is 4 levels). */
const MAX_DEPTH = 32;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---- encoding ----

/** FP32 values as little-endian bytes: a view of the same memory on little-endian hosts (all common ones). */
export function float32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return out;
}

/** BYTES elements in binary form: each a 4-byte little-endian length, then its bytes. */
export function bytesElements(elements: readonly (string | Uint8Array)[]): Uint8Array {
  const encoded = elements.map((e) => (typeof e === 'string' ? utf8Encoder.encode(e) : e));
  const out = new Uint8Array(encoded.reduce((n, e) => n + 4 + e.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const element of encoded) {
    view.setUint32(at, element.byteLength, true);
    out.set(element, at + 4);
    at += 4 + element.byteLength;
  }
  return out;
}

function tensorBytes(tensor: Tensor): Uint8Array {
  return tensor.data instanceof Float32Array ? float32Bytes(tensor.data) : bytesElements(tensor.data);
}

function jsonData(tensor: Tensor): number[] | string[] {
  const { data } = tensor;
  if (data instanceof Float32Array) return Array.from(data);
  if (data.every((e): e is string => typeof e === 'string')) return data as string[];
  // JSON strings cannot carry arbitrary bytes; such a tensor must travel binary.
  throw new TypeError(`tensor "${tensor.name}" holds raw bytes, which only the binary form can carry`);
}

function encodeMessage(head: object, key: 'inputs' | 'outputs', tensors: readonly Tensor[], binary: (tensor: Tensor) => boolean): EncodedMessage {
  const chunks: Uint8Array[] = [];
  const described = tensors.map((tensor) => {
    const meta = { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, ...(tensor.parameters && { parameters: tensor.parameters }) };
    if (!binary(tensor)) return { ...meta, data: jsonData(tensor) };
    const bytes = tensorBytes(tensor);
    chunks.push(bytes);
    return { ...meta, parameters: { ...meta.parameters, binary_data_size: bytes.byteLength } };
  });
  let json = utf8Encoder.encode(JSON.stringify({ ...head, [key]: described }));
  // Spaces after the JSON (still JSON) put the first tensor on a 4-byte boundary, so a receiver
  // holding the body at an aligned address can view its floats in place instead of copying them.
  const pad = chunks.length > 0 ? (4 - (json.byteLength % 4)) % 4 : 0;
  if (pad > 0) json = utf8Encoder.encode(`${JSON.stringify({ ...head, [key]: described })}${' '.repeat(pad)}`);
  const byteLength = chunks.reduce((n, c) => n + c.byteLength, json.byteLength);
  return chunks.length > 0 ? { parts: [json, ...chunks], headerLength: json.byteLength, byteLength } : { parts: [json], byteLength };
}

/** A request whose inputs go as binary data where `binary` says so, as JSON otherwise. */
export function encodeInferRequest(request: InferRequest, binary: (input: Tensor) => boolean): EncodedMessage {
  const { inputs, ...head } = request;
  return encodeMessage(head, 'inputs', inputs, binary);
}

/** A response whose outputs go as binary data where `binary` says so, as JSON otherwise. */
export function encodeInferResponse(response: InferResponse, binary: (output: Tensor) => boolean): EncodedMessage {
  const { outputs, ...head } = response;
  return encodeMessage(head, 'outputs', outputs, binary);
}

// ---- decoding ----

/** The Inference-Header-Content-Length value as a length within the body; undefined when the body is all JSON. */
function jsonLength(header: string | string[] | number | undefined, bodyLength: number): number | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : String(header);
  const length = /^\d{1,15}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(length >= 1 && length <= bodyLength)) {
    throw new V2ProtocolError(`Inference-Header-Content-Length should be the JSON's length in bytes, 1 to ${bodyLength} (the body's length), got ${show(text)}`);
  }
  return length;
}

function tensorMeta(raw: unknown, where: string): Omit<Tensor, 'data'> & { data?: unknown } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new V2ProtocolError(`${where} should be an object, got ${show(raw)}`);
  const t = raw as Record<string, unknown>;
  if (typeof t.name !== 'string') throw new V2ProtocolError(`${where} should have a "name" string, got ${show(t.name)}`);
  const named = `${where} "${t.name}"`;
  if (typeof t.datatype !== 'string') throw new V2ProtocolError(`${named} should have a "datatype" string, got ${show(t.datatype)}`);
  if (!DATATYPES.has(t.datatype)) throw new V2ProtocolError(`${named} has datatype ${show(t.datatype)}; footwear reads FP32 and BYTES tensors`);
  const shape = t.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new V2ProtocolError(`${named} should have a "shape" of non-negative integers, got ${show(shape)}`);
  }
  if (elementCount(shape) > MAX_ELEMENTS) throw new V2ProtocolError(`${named} has shape [${shape.join(', ')}], more than ${MAX_ELEMENTS} elements`);
  if (t.parameters !== undefined && (typeof t.parameters !== 'object' || t.parameters === null || Array.isArray(t.parameters))) {
    throw new V2ProtocolError(`${named} "parameters" should be an object, got ${show(t.parameters)}`);
  }
  return { name: t.name, datatype: t.datatype, shape: shape as number[], ...(t.parameters !== undefined && { parameters: t.parameters as Parameters }), data: t.data };
}

/** JSON data, flat or nested, into `count` floats. */
function jsonFloats(data: unknown, count: number, where: string): Float32Array {
  const out = new Float32Array(count);
  let n = 0;
  const walk = (value: unknown, depth: number): void => {
    if (Array.isArray(value)) {
      if (depth > MAX_DEPTH) throw new V2ProtocolError(`${where} data is nested more than ${MAX_DEPTH} deep`);
      for (const item of value) walk(item, depth + 1);
      return;
    }
    if (typeof value !== 'number') throw new V2ProtocolError(`${where} is FP32, so its data should hold numbers; element ${n} is ${show(value)}`);
    if (n >= count) throw new V2ProtocolError(`${where} data holds more than the ${count} elements its shape needs`);
    out[n++] = value;
  };
  walk(data, 0);
  if (n !== count) throw new V2ProtocolError(`${where} data holds ${n} elements; its shape needs ${count}`);
  return out;
}

/** JSON data, flat or nested, into `count` strings (BYTES elements in JSON are strings). */
function jsonStrings(data: unknown, count: number, where: string): string[] {
  const out: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (Array.isArray(value)) {
      if (depth > MAX_DEPTH) throw new V2ProtocolError(`${where} data is nested more than ${MAX_DEPTH} deep`);
      for (const item of value) walk(item, depth + 1);
      return;
    }
    if (typeof value !== 'string') throw new V2ProtocolError(`${where} is BYTES, so its JSON data should hold strings; element ${out.length} is ${show(value)}`);
    out.push(value);
  };
  walk(data, 0);
  if (out.length !== count) throw new V2ProtocolError(`${where} data holds ${out.length} elements; its shape needs ${count}`);
  return out;
}

function binaryFloats(bytes: Uint8Array, count: number, where: string): Float32Array {
  if (bytes.byteLength !== count * 4) throw new V2ProtocolError(`${where} is FP32 of ${count} elements, so its binary data should be ${count * 4} bytes, got ${bytes.byteLength}`);
  if (LITTLE_ENDIAN) {
    // A view when aligned (no copy of a batch of images); a copy otherwise, as Float32Array needs
    // 4-byte alignment. new Uint8Array(bytes) copies; slice() would not, on a Node Buffer.
    return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, count) : new Float32Array(new Uint8Array(bytes).buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
}

function binaryElements(bytes: Uint8Array, count: number, where: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.byteLength) throw new V2ProtocolError(`${where} binary data ends before element ${i} of ${count} (each is a 4-byte length, then its bytes)`);
    const length = view.getUint32(at, true);
    if (at + 4 + length > bytes.byteLength) throw new V2ProtocolError(`${where} element ${i} says ${length} bytes but only ${bytes.byteLength - at - 4} remain`);
    out.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (at !== bytes.byteLength) throw new V2ProtocolError(`${where} binary data holds ${bytes.byteLength - at} bytes after its ${count} elements`);
  return out;
}

function decodeMessage(body: Uint8Array, header: string | string[] | number | undefined, key: 'inputs' | 'outputs', what: string): Record<string, unknown> {
  const length = jsonLength(header, body.byteLength);
  const jsonEnd = length ?? body.byteLength;
  let head: unknown;
  try {
    head = JSON.parse(utf8Decoder.decode(body.subarray(0, jsonEnd)));
  } catch (error) {
    const hint = length === undefined ? ' (binary tensor data needs the Inference-Header-Content-Length header)' : '';
    throw new V2ProtocolError(`the ${what} is not valid JSON${hint}: ${(error as Error).message}`);
  }
  if (typeof head !== 'object' || head === null || Array.isArray(head)) throw new V2ProtocolError(`the ${what} should be a JSON object, got ${show(head)}`);
  const message = head as Record<string, unknown>;
  const list = message[key];
  if (!Array.isArray(list)) throw new V2ProtocolError(`the ${what} should have "${key}", an array of tensors, got ${show(list)}`);
  let offset = jsonEnd;
  const tensors = list.map((raw, i): Tensor => {
    const { data, ...meta } = tensorMeta(raw, `${key.slice(0, -1)} ${i}`);
    const where = `${key.slice(0, -1)} "${meta.name}"`;
    const count = elementCount(meta.shape);
    const size = meta.parameters?.binary_data_size;
    if (size === undefined) {
      if (data === undefined) throw new V2ProtocolError(`${where} has neither "data" nor parameters.binary_data_size`);
      return { ...meta, data: meta.datatype === 'FP32' ? jsonFloats(data, count, where) : jsonStrings(data, count, where) };
    }
    if (length === undefined) throw new V2ProtocolError(`${where} has parameters.binary_data_size but the request has no Inference-Header-Content-Length header`);
    if (!Number.isSafeInteger(size) || (size as number) < 0) throw new V2ProtocolError(`${where} parameters.binary_data_size should be a byte count, got ${show(size)}`);
    if (data !== undefined) throw new V2ProtocolError(`${where} has both "data" and parameters.binary_data_size; send one`);
    const end = offset + (size as number);
    if (end > body.byteLength) throw new V2ProtocolError(`${where} binary_data_size is ${size} but only ${body.byteLength - offset} bytes follow`);
    const bytes = body.subarray(offset, end);
    offset = end;
    const rest = Object.fromEntries(Object.entries(meta.parameters as Parameters).filter(([key]) => key !== 'binary_data_size'));
    const parameters = Object.keys(rest).length > 0 ? { parameters: rest } : {};
    return { name: meta.name, datatype: meta.datatype, shape: meta.shape, ...parameters, data: meta.datatype === 'FP32' ? binaryFloats(bytes, count, where) : binaryElements(bytes, count, where) };
  });
  if (offset !== body.byteLength) throw new V2ProtocolError(`the body holds ${body.byteLength - offset} bytes after the JSON and the binary data its tensors declare`);
  return { ...message, [key]: tensors };
}

function optionalObject(value: unknown, what: string): Parameters | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new V2ProtocolError(`${what} should be an object, got ${show(value)}`);
  return value as Parameters;
}

/** An inference request from its body and Inference-Header-Content-Length header (absent: all JSON). */
export function decodeInferRequest(body: Uint8Array, headerLength?: string | string[] | number): InferRequest {
  const message = decodeMessage(body, headerLength, 'inputs', 'inference request');
  if (message.id !== undefined && typeof message.id !== 'string') throw new V2ProtocolError(`"id" should be a string, got ${show(message.id)}`);
  const parameters = optionalObject(message.parameters, 'the request "parameters"');
  let outputs: RequestedOutput[] | undefined;
  if (message.outputs !== undefined) {
    if (!Array.isArray(message.outputs)) throw new V2ProtocolError(`"outputs" should be an array of {"name", "parameters"}, got ${show(message.outputs)}`);
    outputs = message.outputs.map((raw: unknown, i) => {
      const o = optionalObject(raw, `output ${i}`) ?? {};
      if (typeof o.name !== 'string') throw new V2ProtocolError(`output ${i} should have a "name" string, got ${show(o.name)}`);
      const params = optionalObject(o.parameters, `output "${o.name}" "parameters"`);
      return { name: o.name, ...(params && { parameters: params }) };
    });
  }
  return {
    ...(message.id !== undefined && { id: message.id as string }),
    ...(parameters && { parameters }),
    inputs: message.inputs as Tensor[],
    ...(outputs && { outputs }),
  };
}

/** An inference response from its body and Inference-Header-Content-Length header (absent: all JSON). */
export function decodeInferResponse(body: Uint8Array, headerLength?: string | string[] | number): InferResponse {
  const message = decodeMessage(body, headerLength, 'outputs', 'inference response');
  return message as unknown as InferResponse;
}

/** BYTES elements as text, however they travelled. */
export function elementStrings(data: TensorData): string[] {
  if (data instanceof Float32Array) throw new TypeError('an FP32 tensor has no strings');
  return (data as (string | Uint8Array)[]).map((e) => (typeof e === 'string' ? e : utf8Decoder.decode(e)));
}
