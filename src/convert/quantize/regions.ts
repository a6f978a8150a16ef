import type { GraphIndex, Node } from './graph-index.ts';

// Parts of a classifier graph that the converters treat differently from the body, found from
// the graph's structure alone (footwear's exporter names nothing specially).

export const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool']);
/** Ops that only rearrange values. */
export const RESHAPES = new Set(['Transpose', 'Flatten', 'Reshape', 'Squeeze', 'Unsqueeze']);

/**
 * The nodes that make `tensor` out of global pools: the pools, and the reshapes and Concats
 * between them and `tensor` (footwear's heads read several pooled layers, concatenated).
 * Undefined when anything else contributes.
 */
function poolingNodes(index: GraphIndex, tensor: string): Node[] | undefined {
  const producer = index.producer(tensor);
  if (!producer) return undefined;
  const op = producer.opType ?? '';
  if (GLOBAL_POOLS.has(op)) return [producer];
  const sources = RESHAPES.has(op) ? [producer.input?.[0] ?? ''] : op === 'Concat' ? (producer.input ?? []) : [];
  const upstream = sources.map((s) => poolingNodes(index, s));
  if (upstream.length === 0 || upstream.some((u) => u === undefined)) return undefined;
  return [...upstream.flatMap((u) => u ?? []), producer];
}

/**
 * A Gemm/MatMul fed by global pools (through reshapes and Concats) is a classifier head.
 * footwear's heads fold feature standardisation into their weights, so rows differ in scale by
 * orders of magnitude, and each pooled feature varies over a range far narrower than its value:
 * small errors in either move the logits. A head is kilobytes and a negligible share of the
 * compute, so the converters keep it float32 by default (int8: see DEFAULT_INT8 for the
 * measured trade).
 */
export function readsPooledFeatures(index: GraphIndex, node: Node): boolean {
  return (node.opType === 'Gemm' || node.opType === 'MatMul') && poolingNodes(index, node.input?.[0] ?? '') !== undefined;
}

/** The classifier head: a Gemm/MatMul reading pooled features, the nodes making those features, and every node after it. */
export function classifierHead(index: GraphIndex): Set<Node> {
  const head = new Set<Node>();
  for (const node of index.nodes) {
    const fedByHead = (node.input ?? []).some((i) => {
      const producer = index.producer(i);
      return producer !== undefined && head.has(producer);
    });
    const pooling = readsPooledFeatures(index, node) ? poolingNodes(index, node.input?.[0] ?? '') : undefined;
    if (fedByHead || pooling) [...(pooling ?? []), node].forEach((n) => head.add(n));
  }
  return head;
}

/**
 * The stem: every node before the first residual Add (one adding two computed tensors), in the
 * graph's topological order; empty for a network without residual connections. These layers run
 * at the highest resolutions, and in MobileNetV2 their BatchNorm-folded weights span the widest
 * ranges, so their rounding errors are the largest that every later layer inherits.
 */
export function stem(index: GraphIndex): Set<Node> {
  const first = index.nodes.findIndex((n) => n.opType === 'Add' && (n.input ?? []).length === 2 && (n.input ?? []).every((i) => !index.isInitializer(i)));
  return new Set(first < 0 ? [] : index.nodes.slice(0, first));
}

