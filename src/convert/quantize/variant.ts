import { attribute, type GraphIndex, type Node } from './graph-index.ts';
import { readsPooledFeatures, RESHAPES } from './regions.ts';

// The few choices whose effect on speed depends on which int8 kernels the CPU has (VNNI or not)
// and ONNX Runtime's build: bench/int8-sweep.ts measures them, and DEFAULT_INT8 is what won.

/** The kinds of weighted node the quantiser can leave float or make integer. */
export interface Int8Ops {
  /** 1x1 (and other full) convolutions after the first, and Gemm/MatMul in the body. */
  pointwise: boolean;
  /** Depthwise convolutions (group = channels). */
  depthwise: boolean;
  /** The first convolution, which reads the network's input. */
  first: boolean;
  /** A Gemm/MatMul classifier head reading pooled features (see regions.ts). */
  head: boolean;
}

export interface Int8Variant {
  /** Activation type: uint8 makes ONNX Runtime's u8s8 kernels run, int8 its s8s8 ones. */
  activations: 'uint8' | 'int8';
  /** One weight scale per output channel, or one per tensor. */
  weights: 'per-channel' | 'per-tensor';
  ops: Int8Ops;
}

export type WeightKind = keyof Int8Ops;

/**
 * What `convert --quantize int8` writes (BENCHMARKS.md, "int8 on this CPU", shoes-224 model,
 * 1800 test photos): uint8 activations (int8 ones ran slower: ORT 1.30 leaves s8 depthwise
 * convs and Adds float), per-channel weights (per-tensor lost 2.8 points), every convolution
 * integer (a float depthwise conv leaves its whole block float), and a float head. An integer
 * head timed within a few percent of it, inside the rounds' spread (1.51x float32 against
 * 1.45x at batch 32 in one run, 1.54x against 1.57x in the next) within 0.3 points there, but
 * on the test suite's smaller model it lost 1 point (286 vs 289 of 300) and agreement fell from
 * 299 to 297 of 300: the float head's bias correction (head-correction.ts) is worth more.
 */
export const DEFAULT_INT8: Int8Variant = {
  activations: 'uint8',
  weights: 'per-channel',
  ops: { pointwise: true, depthwise: true, first: true, head: false },
};

/** Fills the fields `partial` leaves out from DEFAULT_INT8. */
export function int8Variant(partial: { activations?: Int8Variant['activations']; weights?: Int8Variant['weights']; ops?: Partial<Int8Ops> } = {}): Int8Variant {
  return { ...DEFAULT_INT8, ...partial, ops: { ...DEFAULT_INT8.ops, ...partial.ops } };
}

/** True when `conv` reads the graph input, possibly through data-movement ops (a layout Transpose). */
function readsGraphInput(index: GraphIndex, conv: Node): boolean {
  let tensor = conv.input?.[0] ?? '';
  for (let producer = index.producer(tensor); producer && RESHAPES.has(producer.opType ?? ''); producer = index.producer(tensor)) tensor = producer.input?.[0] ?? '';
  return index.graphInputs.has(tensor);
}

/** Which kind of weighted node `node` is (it has a weight the quantiser can handle). */
export function weightKind(index: GraphIndex, node: Node): WeightKind {
  if (readsPooledFeatures(index, node)) return 'head';
  if (node.opType !== 'Conv') return 'pointwise';
  if (readsGraphInput(index, node)) return 'first';
  const group = Number(attribute(node, 'group') ?? 1);
  const perGroup = Number(index.initializers.get(node.input?.[1] ?? '')?.dims?.[1]);
  return group > 1 && perGroup === 1 ? 'depthwise' : 'pointwise';
}

/** A short name for tables: the fields that differ from DEFAULT_INT8, or "default". */
export function variantName(variant: Int8Variant): string {
  const parts: string[] = [];
  if (variant.activations !== DEFAULT_INT8.activations) parts.push(`${variant.activations} activations`);
  if (variant.weights !== DEFAULT_INT8.weights) parts.push(`${variant.weights} weights`);
  for (const kind of Object.keys(DEFAULT_INT8.ops) as WeightKind[]) {
    if (variant.ops[kind] !== DEFAULT_INT8.ops[kind]) parts.push(`${kind} ${variant.ops[kind] ? 'int8' : 'float'}`);
  }
  return parts.length === 0 ? 'default' : parts.join(', ');
}
