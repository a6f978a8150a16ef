import type { CalibrationRequest } from './calibrate.ts';
import { attribute, type GraphIndex, type Node, type Use } from './graph-index.ts';
import { GLOBAL_POOLS, RESHAPES } from './regions.ts';
import { DataType } from './tensors.ts';
import { weightKind, type Int8Variant } from './variant.ts';

/** A weight initializer quantised per output channel for one Conv/Gemm/MatMul node. */
export interface WeightPlan {
  node: Node;
  /** Channel axis of the weight: Conv's OIHW axis 0, the N axis of a Gemm/MatMul [K, N] weight. */
  axis: number;
  /** Input slot of a 1-D per-channel bias, corrected for weight rounding and stored as int32. */
  biasSlot?: number;
  /**
   * Axes to average the node's input over for its per-channel means, which bias correction
   * needs (every axis but the channel one); undefined where there is no bias to correct.
   */
  meanAxes?: number[];
}

/**
 * Where QuantizeLinear/DequantizeLinear go. The layout follows what ONNX Runtime's CPU provider
 * fuses (its QDQ selectors): DQ on every input and Q on the output of a Conv or Add turns the
 * group into QLinearConv or QLinearAdd. A Clip(0, 6)/Relu between a Conv and its Q stays in the
 * graph, so the file computes exactly what the float model does with rounded tensors; ORT drops
 * it as redundant because the uint8 range [0, max <= 6] already clips there.
 */
export interface QdqPlan {
  /**
   * Activation tensors to quantise, each with the uses that read it dequantized. Each gets one
   * QuantizeLinear right after its producer (or at the graph start) and one DequantizeLinear per use.
   */
  activations: Map<string, Use[]>;
  /** Outputs of data-movement ops, which must reuse their input's parameters for ORT to drop the pair. */
  aliases: Map<string, string>;
  weights: WeightPlan[];
  /** Float classifier heads whose bias absorbs the mean error of the quantised features they read. */
  heads: Node[];
}

/** Ops whose integer form ORT runs when their inputs are dequantized and their output quantized. */
const ELEMENTWISE = new Set(['Add', 'AveragePool', 'Concat']);
/** Activations between a Conv and its Q, which ORT removes when the Q's range lies inside theirs. */
const ACTIVATIONS = new Set(['Clip', 'Relu']);
/** Ops that only move values: ORT drops the DQ -> op -> Q around them when both share parameters. */
const MOVEMENT = new Set([...RESHAPES, 'MaxPool']);

/** The channel axis of a node's weight initializer, or undefined when the node is not quantised. */
function weightAxis(index: GraphIndex, node: Node): number | undefined {
  const [x, w] = node.input ?? [];
  const weight = w ? index.initializers.get(w) : undefined;
  if (!weight || index.isInitializer(x) || weight.dataType !== DataType.FLOAT) return undefined;
  const rank = weight.dims?.length ?? 0;
  if (node.opType === 'Conv') return rank >= 3 ? 0 : undefined;
  if (node.opType === 'Gemm') return rank === 2 && attribute(node, 'transA') !== 1 ? (attribute(node, 'transB') === 1 ? 0 : 1) : undefined;
  if (node.opType === 'MatMul') return rank === 2 ? 1 : undefined;
  return undefined;
}

/** Bias slot that can be stored as int32: a 1-D initializer of one value per output channel. */
function biasSlot(index: GraphIndex, node: Node, axis: number): number | undefined {
  const bias = node.input?.[2] ? index.initializers.get(node.input[2]) : undefined;
  if (!bias || bias.dataType !== DataType.FLOAT || bias.dims?.length !== 1) return undefined;
  const channels = Number(index.initializers.get(node.input?.[1] ?? '')?.dims?.[axis]);
  if (Number(bias.dims[0]) !== channels) return undefined;
  // Bias correction and QGemm's int32 bias both treat C as added once, which needs alpha = beta = 1.
  if (node.opType === 'Gemm' && ((attribute(node, 'alpha') ?? 1) !== 1 || (attribute(node, 'beta') ?? 1) !== 1)) return undefined;
  return node.opType === 'Conv' || node.opType === 'Gemm' ? 2 : undefined;
}

/** Conv input is [N, C, ...spatial]: mean over all but axis 1. Gemm input (no transA) is [N, K]. */
function meanAxes(index: GraphIndex, node: Node): number[] {
  if (node.opType === 'Gemm') return [0];
  const rank = index.initializers.get(node.input?.[1] ?? '')?.dims?.length ?? 4;
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
}

/**
 * Decides the QDQ layout in one backwards pass: a node is quantised only if every reader of its
 * output reads it quantised, so no integer kernel ever hands a float op a tensor it must
 * re-quantise, and a Q never has a float sibling (which would stop ORT fusing the producer).
 * A node that `variant` leaves float reads float, so the Conv before it stays float too: were
 * it to read a dequantized input and feed a Q, ONNX Runtime (1.30) would quantise its float
 * weight itself at load time (per tensor, without bias correction) and run it integer anyway.
 */
export function planQdq(index: GraphIndex, variant: Int8Variant): QdqPlan {
  const slots = new Map<Node, Set<number>>();
  const aliases = new Map<string, string>();
  const weights: WeightPlan[] = [];
  const heads: Node[] = [];

  const readQuantized = (tensor: string): boolean => {
    const uses = index.usesOf(tensor);
    return !index.graphOutputs.has(tensor) && uses.length > 0 && uses.every((u) => slots.get(u.node)?.has(u.slot));
  };
  /** `tensor` is read quantised, directly or through the one activation ORT drops before a Q. */
  const feedsQuantized = (tensor: string): boolean => {
    const uses = index.usesOf(tensor);
    if (uses.length === 1 && ACTIVATIONS.has(uses[0].node.opType ?? '') && !index.graphOutputs.has(tensor)) return readQuantized(uses[0].node.output?.[0] ?? '');
    return readQuantized(tensor);
  };
  for (const node of [...index.nodes].reverse()) {
    const op = node.opType ?? '';
    const inputs = node.input ?? [];
    const out = node.output?.[0] ?? '';
    const axis = weightAxis(index, node);
    const kind = axis === undefined ? undefined : weightKind(index, node);
    // A Conv runs integer only with a quantised output; Gemm/MatMul kernels may output float.
    if (axis !== undefined && kind !== undefined && variant.ops[kind] && (op !== 'Conv' || feedsQuantized(out))) {
      const bias = biasSlot(index, node, axis);
      weights.push({ node, axis, biasSlot: bias, meanAxes: bias === undefined ? undefined : meanAxes(index, node) });
      slots.set(node, new Set([0]));
    } else if (axis !== undefined && kind === 'head') {
      if (op === 'Gemm' && biasSlot(index, node, axis) !== undefined) heads.push(node);
    } else if (GLOBAL_POOLS.has(op) && !index.isInitializer(inputs[0])) {
      // Global pools read their input quantised (so the conv before them stays an integer kernel).
      // Their output is quantised only for a head that `variant` makes integer: per-tensor uint8
      // pooled features cost footwear's classifiers more agreement with float32 than any other
      // tensor (measured), and pooling is cheap.
      slots.set(node, new Set([0]));
    } else if (ELEMENTWISE.has(op) && node.output?.length === 1 && inputs.every((i) => i && !index.isInitializer(i)) && readQuantized(out)) {
      slots.set(node, new Set(inputs.map((_, slot) => slot)));
    } else if (MOVEMENT.has(op) && node.output?.length === 1 && !index.isInitializer(inputs[0]) && readQuantized(out)) {
      slots.set(node, new Set([0]));
      aliases.set(out, inputs[0]);
    }
  }

  const activations = new Map<string, Use[]>();
  for (const [node, nodeSlots] of slots) {
    for (const slot of nodeSlots) {
      const tensor = node.input?.[slot] ?? '';
      activations.set(tensor, [...(activations.get(tensor) ?? []), { node, slot }]);
    }
  }
  return { activations, aliases, weights: weights.reverse(), heads };
}

/** The tensor whose measured range sets `tensor`'s parameters (itself unless it is an alias). */
export function rangeSource(plan: QdqPlan, tensor: string): string {
  let source = tensor;
  while (plan.aliases.has(source)) source = plan.aliases.get(source) as string;
  return source;
}

/** What calibration has to measure for `plan`: activation ranges, and input means for bias correction. */
export function calibrationRequest(plan: QdqPlan): CalibrationRequest {
  return {
    ranges: [...new Set([...plan.activations.keys()].map((t) => rangeSource(plan, t)))],
    means: [
      ...plan.weights.flatMap((w) => (w.meanAxes ? [{ tensor: w.node.input?.[0] ?? '', axes: w.meanAxes }] : [])),
      ...plan.heads.map((head) => ({ tensor: head.input?.[0] ?? '', axes: [0] })),
    ],
  };
}
