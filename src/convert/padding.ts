export interface SpatialPads {
  /** Per spatial axis, in native order (height, width). */
  begin: number[];
  end: number[];
}

/**
 * The zero padding TF applies for `padding: 'same'`: the output has ceil(in / stride) positions
 * and the total shortfall is split with the odd pixel at the end (bottom/right). Returns
 * undefined when a spatial size is unknown and the split depends on it; ONNX's SAME_UPPER does
 * the same split at run time.
 */
export function samePads(
  inputSizes: readonly (number | null)[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): SpatialPads | undefined {
  const begin: number[] = [];
  const end: number[] = [];
  for (let axis = 0; axis < kernel.length; axis++) {
    const effectiveKernel = (kernel[axis] - 1) * dilations[axis] + 1;
    const size = inputSizes[axis];
    let total: number;
    if (strides[axis] === 1) total = effectiveKernel - 1;
    else if (size == null) return undefined;
    else total = Math.max((Math.ceil(size / strides[axis]) - 1) * strides[axis] + effectiveKernel - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return { begin, end };
}

export function addPads(a: SpatialPads, b: SpatialPads): SpatialPads {
  return { begin: a.begin.map((v, i) => v + b.begin[i]), end: a.end.map((v, i) => v + b.end[i]) };
}

/** ONNX Conv/Pool `pads`: all begins, then all ends. */
export function onnxPads(pads: SpatialPads): number[] {
  return [...pads.begin, ...pads.end];
}
