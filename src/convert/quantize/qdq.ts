import { onnx, type OnnxProto } from '../onnx.ts';
import { roundingShift, type WeightLayout } from './bias-correction.ts';
import type { CalibrationResult } from './calibrate.ts';
import { attribute, type GraphIndex, type Node } from './graph-index.ts';
import { activationParams, dequantizeWeight, fitScalesToBias, quantizeBias, quantizeWeight, weightScales, type ActivationParams } from './params.ts';
import { rangeSource, type QdqPlan, type WeightPlan } from './plan.ts';
import { dimsOf, floatTensor, int32Tensor, int8Tensor, readFloats, uint8Tensor } from './tensors.ts';
import type { Int8Variant } from './variant.ts';

export interface QdqSummary {
  activations: number;
  weights: number;
  biases: number;
}

/** Names derived from existing ones, kept unique across the graph as ONNX requires. */
class Names {
  private readonly taken = new Set<string>();

  constructor(graph: OnnxProto.IGraphProto) {
    for (const n of graph.node ?? []) [...(n.input ?? []), ...(n.output ?? []), n.name ?? ''].forEach((x) => this.taken.add(x));
    for (const t of graph.initializer ?? []) this.taken.add(t.name ?? '');
    for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) this.taken.add(v.name ?? '');
  }

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }
}

function axisAttribute(axis: number): OnnxProto.IAttributeProto {
  return { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis };
}

/**
 * Rewrites `graph` in place into QDQ form following `plan`: a QuantizeLinear (uint8 or int8 as
 * `variant` says, per-tensor, from the measured range) after each planned activation and a
 * DequantizeLinear before each use; int8 weights (per channel or per tensor) and int32 biases
 * behind DequantizeLinear. Nodes stay in topological order: each DQ right before its reader,
 * each Q right after its writer.
 */
export function applyQdq(graph: OnnxProto.IGraphProto, index: GraphIndex, plan: QdqPlan, calibration: CalibrationResult, variant: Int8Variant): QdqSummary {
  const { ranges, means } = calibration;
  const names = new Names(graph);
  const initializers: OnnxProto.ITensorProto[] = [...(graph.initializer ?? [])];
  const before = new Map<Node, Node[]>();
  /** The QuantizeLinear of each planned activation, emitted right after the tensor's writer. */
  const after = new Map<string, Node>();
  const summary: QdqSummary = { activations: 0, weights: 0, biases: 0 };
  const addInitializer = (tensor: OnnxProto.ITensorProto): string => {
    initializers.push(tensor);
    return tensor.name as string;
  };
  const insertBefore = (node: Node, added: Node): void => {
    before.set(node, [...(before.get(node) ?? []), added]);
  };

  // Activations: parameters per range source, so aliases share the very same initializers.
  const params = new Map<string, ActivationParams & { scaleName: string; zeroPointName: string }>();
  const paramsOf = (tensor: string) => {
    const source = rangeSource(plan, tensor);
    let p = params.get(source);
    if (!p) {
      const range = ranges.get(source);
      if (!range || !(range.min <= range.max)) throw new Error(`internal: calibration measured no range for "${source}"`);
      const { scale, zeroPoint } = activationParams(range, variant.activations);
      const scaleName = addInitializer(floatTensor(names.unique(`${source}/scale`), [scale], []));
      const zpName = names.unique(`${source}/zp`);
      const zeroPointName = addInitializer(variant.activations === 'int8' ? int8Tensor(zpName, Int8Array.of(zeroPoint), []) : uint8Tensor(zpName, [zeroPoint], []));
      p = { scale, zeroPoint, scaleName, zeroPointName };
      params.set(source, p);
    }
    return p;
  };
  // Weights first: a bias's scale needs its node's input parameters, looked up by the input's
  // original name before the activation pass below renames that input to its DQ output.
  for (const weight of plan.weights) {
    const input = (weight.node.input as string[])[0];
    const added = quantizeWeights(weight, index, paramsOf(input), means.get(input), variant.weights === 'per-tensor', names, addInitializer);
    for (const n of added.nodes) insertBefore(weight.node, n);
    summary.weights++;
    if (added.int32Bias) summary.biases++;
  }

  for (const [tensor, uses] of plan.activations) {
    const p = paramsOf(tensor);
    const quantized = names.unique(`${tensor}/q`);
    after.set(tensor, { opType: 'QuantizeLinear', input: [tensor, p.scaleName, p.zeroPointName], output: [quantized] });
    // One DQ per use: ORT fuses a node group only when its DQ nodes feed nothing else.
    for (const use of uses) {
      const dequantized = names.unique(`${tensor}/dq`);
      insertBefore(use.node, { opType: 'DequantizeLinear', input: [quantized, p.scaleName, p.zeroPointName], output: [dequantized] });
      (use.node.input as string[])[use.slot] = dequantized;
    }
    summary.activations++;
  }

  const nodes: Node[] = [];
  const emitQ = (tensor: string) => {
    const q = after.get(tensor);
    if (q) nodes.push(q);
  };
  for (const tensor of after.keys()) if (index.graphInputs.has(tensor)) emitQ(tensor);
  for (const node of index.nodes) {
    nodes.push(...(before.get(node) ?? []), node);
    for (const out of node.output ?? []) emitQ(out);
  }
  graph.node = nodes;
  const read = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.initializer = initializers.filter((t) => read.has(t.name ?? ''));
  return summary;
}

/**
 * DequantizeLinear nodes feeding one node its int8 weight and int32 bias; the bias first absorbs
 * the average error that rounding the weight causes (bias-correction.ts).
 */
function quantizeWeights(
  plan: WeightPlan,
  index: GraphIndex,
  input: ActivationParams & { scaleName: string },
  inputMeans: Float32Array | undefined,
  perTensor: boolean,
  names: Names,
  addInitializer: (t: OnnxProto.ITensorProto) => string,
): { nodes: Node[]; int32Bias: boolean } {
  const node = plan.node;
  const inputs = node.input as string[];
  const weightName = inputs[1];
  const weightInit = index.initializers.get(weightName) as OnnxProto.ITensorProto;
  const dims = dimsOf(weightInit);
  const values = readFloats(weightInit);
  let bias = plan.biasSlot !== undefined ? index.floatInitializer(inputs[plan.biasSlot]) : undefined;
  let scales = weightScales(values, dims, plan.axis, perTensor);
  if (bias) scales = fitScalesToBias(scales, bias, input.scale, perTensor);
  const quantized = quantizeWeight(values, dims, plan.axis, scales);
  if (bias && inputMeans) {
    const dequantized = dequantizeWeight(quantized, dims, plan.axis, scales);
    const layout: WeightLayout = node.opType === 'Conv' ? { op: 'Conv', group: Number(attribute(node, 'group') ?? 1) } : { op: 'Gemm', transB: attribute(node, 'transB') === 1 };
    const shift = roundingShift(values, dequantized, dims, layout, inputMeans);
    bias = bias.map((b, c) => b - shift[c]);
  }

  // Per tensor: one scalar scale (and zero point), which is what selects ORT's per-tensor kernels.
  const channels = perTensor ? [] : [dims[plan.axis]];
  const q = addInitializer(int8Tensor(names.unique(`${weightName}/int8`), quantized, dims));
  const s = addInitializer(floatTensor(names.unique(`${weightName}/scale`), perTensor ? scales.subarray(0, 1) : scales, channels));
  const w = names.unique(`${weightName}/dq`);
  const dqInputs = [q, s];
  // Symmetric weights have zero points of 0, which is also what an absent one means, and ORT's
  // QLinearConv fusion fills it in. Its Gemm fusion does not, so Gemm/MatMul weights carry them.
  if (node.opType !== 'Conv') dqInputs.push(addInitializer(int8Tensor(names.unique(`${weightName}/zp`), new Int8Array(perTensor ? 1 : dims[plan.axis]), channels)));
  const nodes: Node[] = [{ opType: 'DequantizeLinear', input: dqInputs, output: [w], attribute: perTensor ? [] : [axisAttribute(plan.axis)] }];
  inputs[1] = w;
  if (bias && plan.biasSlot !== undefined) {
    const biasName = inputs[plan.biasSlot];
    const qb = quantizeBias(bias, input.scale, scales);
    const bq = addInitializer(int32Tensor(names.unique(`${biasName}/int32`), qb.data, [qb.data.length]));
    // The bias scale is by definition input scale x weight scale: a Mul of the two initializers
    // states that and saves storing one more float per channel (ORT folds it when loading).
    const bs = names.unique(`${biasName}/scale`);
    const b = names.unique(`${biasName}/dq`);
    nodes.push({ opType: 'Mul', input: [input.scaleName, s], output: [bs] });
    // No zero point: absent means 0 of the int32 type, which is what a bias uses.
    nodes.push({ opType: 'DequantizeLinear', input: [bq, bs], output: [b], attribute: perTensor ? [] : [axisAttribute(0)] });
    inputs[plan.biasSlot] = b;
  }
  return { nodes, int32Bias: bias !== undefined };
}
