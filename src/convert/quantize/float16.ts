import { onnx, type OnnxProto } from '../onnx.ts';
import { GraphIndex, type Node } from './graph-index.ts';
import { toHalfBits } from './half.ts';
import { describeQuantization } from './mode.ts';
import { classifierHead, stem } from './regions.ts';
import { DataType, float16Tensor, readFloats } from './tensors.ts';

const FLOAT = DataType.FLOAT;
const FLOAT16 = DataType.FLOAT16;
/** Inputs that the ONNX schema types as float32 whatever the compute type (Resize's scales). */
const FLOAT32_INPUTS: Record<string, number[]> = { Resize: [2] };
/** Ops whose outputs are never float, so their consumers need no Cast for them. */
const NON_FLOAT_OUTPUTS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'TopK']);

function castTo(input: string, output: string, to: number): Node {
  return { name: `${output}/Cast`, opType: 'Cast', input: [input], output: [output], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }] };
}

function toFloat16(tensor: OnnxProto.ITensorProto, name = tensor.name ?? ''): OnnxProto.ITensorProto {
  return float16Tensor(name, Uint16Array.from(readFloats(tensor), toHalfBits), (tensor.dims ?? []).map(Number));
}

export interface Float16Options {
  /**
   * Keep the stem (the layers before the first residual Add, see regions.ts) in float32; default
   * true. Measured on footwear's test model over 90 test photos: all in fp16, class probabilities
   * move by up to 0.018 (one photo in ten by more than 0.01), nearly all of it from rounding the
   * stem's weights; with the stem in float32, by at most 0.006. The stem is about a third of the
   * multiply-adds, so false trades that fidelity for more of fp16's speed.
   */
  keepStem?: boolean;
}

/**
 * Converts a float32 model to float16: weights, intermediate tensors and the ops computing them.
 * Graph inputs and outputs stay float32 behind Cast nodes, so callers (and footwear's loaders)
 * feed and read float32 as before. The classifier head (regions.ts) stays float32, and so does the
 * stem unless `keepStem` is false. Meant for GPUs and WebGPU, which run fp16 up to twice as
 * fast; ONNX Runtime's CPU provider runs it too, casting around ops that lack an fp16 kernel.
 */
export function convertToFloat16(fp32: Uint8Array, options: Float16Options = {}): Uint8Array {
  const model = onnx.ModelProto.decode(fp32);
  const graph = model.graph as OnnxProto.GraphProto;
  const index = new GraphIndex(graph);
  const keepStem = options.keepStem ?? true;
  const keep32 = new Set([...classifierHead(index), ...(keepStem ? stem(index) : [])]);
  const isHalf = (node: Node) => !keep32.has(node);

  // The precision each float tensor has in the converted graph; non-float tensors are absent.
  const precision = new Map<string, number>();
  for (const input of graph.input) if (!index.isInitializer(input.name ?? '') && input.type?.tensorType?.elemType === FLOAT) precision.set(input.name ?? '', FLOAT);
  for (const node of graph.node) {
    if (NON_FLOAT_OUTPUTS.has(node.opType ?? '')) continue;
    for (const out of node.output ?? []) precision.set(out, isHalf(node) ? FLOAT16 : FLOAT);
  }

  // Initializers: float16 where every reader computes in float16, a float16 copy where readers mix.
  const initializers: OnnxProto.ITensorProto[] = [];
  const halfCopies = new Map<string, string>();
  for (const init of graph.initializer) {
    const name = init.name ?? '';
    const uses = index.usesOf(name);
    const halfUses = uses.filter((u) => isHalf(u.node) && !(FLOAT32_INPUTS[u.node.opType ?? ''] ?? []).includes(u.slot));
    if (init.dataType !== FLOAT || halfUses.length === 0) initializers.push(init);
    else if (halfUses.length === uses.length) initializers.push(toFloat16(init));
    else {
      initializers.push(init);
      halfCopies.set(name, `${name}/fp16`);
      initializers.push(toFloat16(init, `${name}/fp16`));
    }
    if (init.dataType === FLOAT) precision.set(name, halfUses.length === uses.length && uses.length > 0 ? FLOAT16 : FLOAT);
  }

  // Every float input a node reads in the other precision goes through one shared Cast.
  const casts = new Map<string, Node>();
  const inPrecision = (tensor: string, want: number): string => {
    const have = precision.get(tensor);
    if (have === undefined || have === want) return tensor;
    if (want === FLOAT16 && halfCopies.has(tensor)) return halfCopies.get(tensor) as string;
    const key = `${tensor}|${want}`;
    let cast = casts.get(key);
    if (!cast) {
      cast = castTo(tensor, `${tensor}/${want === FLOAT16 ? 'fp16' : 'fp32'}`, want);
      casts.set(key, cast);
    }
    return (cast.output as string[])[0];
  };
  const nodes: Node[] = [];
  for (const node of graph.node) {
    const want = isHalf(node) ? FLOAT16 : FLOAT;
    const before = casts.size;
    node.input = (node.input ?? []).map((tensor, slot) => (tensor && !(FLOAT32_INPUTS[node.opType ?? ''] ?? []).includes(slot) ? inPrecision(tensor, want) : tensor));
    nodes.push(...[...casts.values()].slice(before), node);
    for (const attr of node.attribute ?? []) {
      if (!isHalf(node)) continue;
      if (node.opType === 'Cast' && attr.name === 'to' && Number(attr.i) === FLOAT) attr.i = FLOAT16;
      if (node.opType === 'Constant' && attr.t?.dataType === FLOAT) attr.t = toFloat16(attr.t);
    }
  }
  // Outputs computed in float16 are renamed inside the graph and cast back under their own name.
  for (const output of graph.output) {
    const name = output.name ?? '';
    if (precision.get(name) !== FLOAT16) continue;
    const half = `${name}/fp16`;
    for (const node of nodes) {
      node.output = node.output?.map((o) => (o === name ? half : o));
      node.input = node.input?.map((i) => (i === name ? half : i));
    }
    nodes.push(castTo(half, name, FLOAT));
  }
  for (const info of graph.valueInfo) if (info.type?.tensorType?.elemType === FLOAT && precision.get(info.name ?? '') === FLOAT16) info.type.tensorType.elemType = FLOAT16;
  graph.node = nodes.map((n) => onnx.NodeProto.create(n));
  graph.initializer = initializers.map((t) => onnx.TensorProto.create(t));
  describeQuantization(model, {
    mode: 'fp16',
    float16: 'weights and compute',
    float32: keepStem ? 'stem (layers before the first residual Add) and classifier head' : 'classifier head',
    io: 'float32 (Cast at the graph boundary)',
  });
  return onnx.ModelProto.encode(model).finish();
}
