import onnxProto from 'onnx-proto';
import { specFromModel, type ModelSpec } from '../core/index.ts';
import { ExportError } from './errors.ts';

// What a serving engine must be told about an exported model: its graph's input and output
// tensors (names, element types, shapes) and the footwear spec (labels) in its metadata.
// The spec comes from the core's one metadata reader; the graph's tensors, which no other stage
// needs, are decoded here with onnx-proto.

// onnx-proto is CommonJS that assigns module.exports wholesale: only a default export in ESM.
const { onnx } = onnxProto;

/** A dimension: its size, or the symbol (or null) of a dynamic one. */
export type Dim = { size: number } | { symbol: string | null };

export interface TensorInfo {
  name: string;
  /** ONNX TensorProto.DataType number, e.g. 1 = FLOAT. */
  elemType: number;
  dims: Dim[];
}

export interface GraphSignature {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  spec: ModelSpec;
}

export function formatDims(dims: Dim[]): string {
  return `[${dims.map((d) => ('size' in d ? d.size : (d.symbol ?? '?'))).join(', ')}]`;
}

function tensorInfo(value: onnxProto.onnx.IValueInfoProto, file: string): TensorInfo {
  const tensor = value.type?.tensorType;
  if (!tensor) throw new ExportError(`${file}: graph tensor "${value.name}" is not a plain tensor (sequence, map or optional); a Triton config cannot describe it`);
  const shape = tensor.shape?.dim;
  if (!shape) throw new ExportError(`${file}: graph tensor "${value.name}" has no shape; re-export the model with footwear convert`);
  const dims = shape.map((d): Dim => {
    // `value` says which field of the oneof is set; an unset one is a dynamic, unnamed dimension.
    const which = (d as onnxProto.onnx.TensorShapeProto.Dimension).value;
    if (which === 'dimValue') return { size: Number(d.dimValue) };
    return { symbol: which === 'dimParam' ? (d.dimParam ?? null) : null };
  });
  return { name: value.name ?? '', elemType: tensor.elemType ?? 0, dims };
}

/**
 * The graph's real inputs and outputs and the model's spec. Throws ExportError naming `file`
 * when the bytes are not an ONNX model or carry no footwear spec.
 */
export function readGraphSignature(bytes: Uint8Array, file: string): GraphSignature {
  let model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new ExportError(`${file}: not a valid ONNX model (truncated, or not ONNX: ${(error as Error).message})`);
  }
  if (!model.graph || Number(model.irVersion) <= 0) throw new ExportError(`${file}: not an ONNX model (it has no graph or no IR version)`);
  const { graph } = model;
  // Before IR version 4, weights were also listed as graph inputs; they are not fed by a client.
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !weights.has(i.name ?? '')).map((i) => tensorInfo(i, file));
  const outputs = (graph.output ?? []).map((o) => tensorInfo(o, file));
  const spec = specFromModel(bytes, file);
  return { inputs, outputs, spec };
}
