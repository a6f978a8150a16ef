/**
 * Keras tensors are channels-last; ONNX Conv and pooling want channels at axis 1. Every ONNX
 * tensor the exporter makes carries one of these flags, so a transpose is only inserted where a
 * consumer needs the other order.
 *
 * - 'native': the Keras axis order (N, ..., C).
 * - 'channelsFirst': the last Keras axis moved to position 1 (N, C, ...). Only meaningful for
 *   rank 3 and above; lower ranks are always 'native'.
 */
export type Layout = 'native' | 'channelsFirst';

/** Permutation whose entry j says which native axis lands at position j of channels-first. */
export function channelsFirstOrder(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Transpose `perm` that takes a tensor of `rank` from layout `from` to layout `to`. */
export function transposePerm(rank: number, from: Layout, to: Layout): number[] | undefined {
  if (from === to || rank < 3) return undefined;
  const toFirst = channelsFirstOrder(rank);
  if (to === 'channelsFirst') return toFirst;
  // Inverse permutation: native axis a sits at position toFirst.indexOf(a).
  return Array.from({ length: rank }, (_, a) => toFirst.indexOf(a));
}

/** Where Keras axis `axis` (negative counts from the end) lives in a tensor stored in `layout`. */
export function physicalAxis(axis: number, rank: number, layout: Layout): number {
  const native = axis < 0 ? axis + rank : axis;
  if (native < 0 || native >= rank) throw new RangeError(`axis ${axis} is out of range for rank ${rank}`);
  if (layout === 'native' || rank < 3) return native;
  return channelsFirstOrder(rank).indexOf(native);
}

/** Per-position permutation of a list of native per-axis values (e.g. dims) into `layout`. */
export function arrangeAxes<T>(values: readonly T[], layout: Layout): T[] {
  if (layout === 'native' || values.length < 3) return [...values];
  return channelsFirstOrder(values.length).map((a) => values[a]);
}
