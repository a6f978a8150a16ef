import { classificationStrings, type InferRequest, type ModelSpec, type Tensor } from '../core/index.ts';
import { HttpError } from './http-error.ts';

// What a KServe v2 inference request asks of this model, checked against its spec: the one input,
// as an FP32 tensor [N, H, W, 3] already preprocessed or as BYTES [N] of encoded images (which the
// server decodes and resizes as for /v1), and the outputs: the probabilities [N, classes], or,
// with Triton's classification extension, the top K as "score:index:label" strings.

export type V2Input = { kind: 'tensor'; data: Float32Array; count: number } | { kind: 'images'; images: Uint8Array[] };

export interface V2Output {
  name: string;
  /** Answered as binary tensor data rather than JSON. */
  binary: boolean;
  /** Triton's classification extension: the top K as strings, instead of the scores. */
  classification?: number;
}

export interface V2Plan {
  input: V2Input;
  outputs: V2Output[];
}

const badRequest = (message: string) => new HttpError(400, 'bad-request', message);
const show = (value: unknown) => JSON.stringify(value) ?? String(value);
/** Standard or URL-safe alphabet, padding optional: what base64 encoders write. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bytesOf(element: string | Uint8Array, i: number): Uint8Array {
  if (typeof element !== 'string') return element;
  // Buffer's decoder skips what it cannot read; a typo must fail here, not decode to another image.
  if (!BASE64.test(element) || element.replace(/=+$/, '').length % 4 === 1) {
    throw badRequest(`image ${i} is not base64: a BYTES input in JSON carries each encoded image (JPEG, PNG, WebP...) as a base64 string`);
  }
  return Buffer.from(element, 'base64');
}

function input(request: InferRequest, spec: ModelSpec): V2Input {
  const { height, width } = spec.preprocess;
  const takes = `"${spec.inputName}": FP32 [N, ${height}, ${width}, 3] preprocessed tensors, or BYTES [N] encoded images`;
  if (request.inputs.length !== 1) {
    throw badRequest(`the model takes one input, ${takes}; the request has ${request.inputs.length}${request.inputs.length ? ` (${request.inputs.map((t) => `"${t.name}"`).join(', ')})` : ''}`);
  }
  const [tensor] = request.inputs;
  if (tensor.name !== spec.inputName) throw badRequest(`no input named "${tensor.name}"; the model takes ${takes}`);
  const [count] = tensor.shape;
  if (tensor.data instanceof Float32Array) {
    const [, h, w, c] = tensor.shape;
    if (tensor.shape.length !== 4 || !(count >= 1) || h !== height || w !== width || c !== 3) {
      throw badRequest(`input "${tensor.name}" should have shape [N, ${height}, ${width}, 3] with N >= 1 (NHWC, preprocessed as the model's spec says), got [${tensor.shape.join(', ')}]`);
    }
    const data = tensor.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw badRequest(`input "${tensor.name}" holds ${data[i]} at element ${i}; a preprocessed image holds finite numbers`);
    }
    return { kind: 'tensor', data, count };
  }
  if (!(count >= 1) || tensor.shape.length > 2 || (tensor.shape.length === 2 && tensor.shape[1] !== 1)) {
    throw badRequest(`input "${tensor.name}" is BYTES, so it should hold one encoded image per element, shape [N] or [N, 1] with N >= 1, got [${tensor.shape.join(', ')}]`);
  }
  return { kind: 'images', images: tensor.data.map(bytesOf) };
}

function optional<T>(value: unknown, what: string, expected: string, valid: (v: unknown) => v is T): T | undefined {
  if (value === undefined) return undefined;
  if (!valid(value)) throw badRequest(`${what} should be ${expected}, got ${show(value)}`);
  return value;
}
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

function outputs(request: InferRequest, spec: ModelSpec): V2Output[] {
  const binaryDefault = optional(request.parameters?.binary_data_output, 'parameters.binary_data_output', 'true or false', isBoolean) ?? false;
  // None named (or an empty list, which gRPC cannot tell from none): every output, as the protocol says.
  const requested = request.outputs?.length ? request.outputs : [{ name: spec.outputName }];
  const seen = new Set<string>();
  return requested.map(({ name, parameters }) => {
    if (name !== spec.outputName) {
      throw badRequest(`no output named "${name}"; the model's output is "${spec.outputName}" (FP32 [N, ${spec.labels.length}] probabilities; parameters.classification K gives the top K as "score:index:label")`);
    }
    if (seen.has(name)) throw badRequest(`output "${name}" is requested twice`);
    seen.add(name);
    const binary = optional(parameters?.binary_data, `output "${name}" parameters.binary_data`, 'true or false', isBoolean) ?? binaryDefault;
    const classification = optional(parameters?.classification, `output "${name}" parameters.classification`, 'a positive integer (how many classes)', isCount);
    return { name, binary, ...(classification !== undefined && { classification }) };
  });
}

/** The request checked against the model; 400 naming what was expected and what came. */
export function planInference(request: InferRequest, spec: ModelSpec): V2Plan {
  return { input: input(request, spec), outputs: outputs(request, spec) };
}

/** The response's output tensors for `scores` (one array of class probabilities per image). */
export function outputTensors(plan: V2Plan, scores: readonly Float32Array[], spec: ModelSpec): Tensor[] {
  const classes = spec.labels.length;
  const flat = new Float32Array(scores.length * classes);
  scores.forEach((row, i) => flat.set(row, i * classes));
  return plan.outputs.map(({ name, classification }) =>
    classification === undefined
      ? { name, datatype: 'FP32', shape: [scores.length, classes], data: flat }
      : { name, datatype: 'BYTES', shape: [scores.length, Math.min(classification, classes)], data: classificationStrings(flat, classes, classification, spec.labels) },
  );
}
