// Empirical bias correction (Nagel et al., "Data-Free Quantization", 2019): rounding weights to
// int8 shifts each output channel by sum((Wq - W) * x), whose average over the data is
// sum((Wq - W) * E[x]) and is the same for every input. Subtracting that from the bias removes
// the systematic part of the error, which inputs after ReLU (all positive, E[x] far from 0) make
// large, and which a classifier head that standardises its features turns into shifted logits.

/** How a weight's elements map to input channels. */
export type WeightLayout = { op: 'Conv'; group: number } | { op: 'Gemm'; transB: boolean };

/**
 * Per output channel, sum over the weights of (dequantized - float) x the mean of the input
 * channel each weight reads. Conv weights are [M, C/group, ...kernel]; Gemm weights [K, N], or
 * [N, K] with transB.
 */
export function roundingShift(weight: Float32Array, dequantized: Float32Array, dims: readonly number[], layout: WeightLayout, inputMeans: Float32Array): Float32Array {
  if (layout.op === 'Gemm') {
    const [rows, cols] = dims;
    const outputs = layout.transB ? rows : cols;
    const shift = new Float32Array(outputs);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const error = dequantized[r * cols + c] - weight[r * cols + c];
        if (layout.transB) shift[r] += error * inputMeans[c];
        else shift[c] += error * inputMeans[r];
      }
    }
    return shift;
  }
  const [outputs, perGroup] = dims;
  const kernel = dims.slice(2).reduce((a, b) => a * b, 1);
  const outputsPerGroup = outputs / layout.group;
  const shift = new Float32Array(outputs);
  for (let o = 0; o < outputs; o++) {
    const firstInput = Math.floor(o / outputsPerGroup) * perGroup;
    let sum = 0;
    for (let j = 0; j < perGroup; j++) {
      const mean = inputMeans[firstInput + j];
      const base = (o * perGroup + j) * kernel;
      for (let k = 0; k < kernel; k++) sum += (dequantized[base + k] - weight[base + k]) * mean;
    }
    shift[o] = sum;
  }
  return shift;
}
