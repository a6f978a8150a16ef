// Quantisation arithmetic: val_fp32 = scale * (val_quantized - zero_point), as in ONNX
// QuantizeLinear/DequantizeLinear. Scales are rounded to float32 first because that is what the
// file stores, so zero points and int32 biases agree with what ONNX Runtime computes.

/** Per-tensor activation parameters (uint8 or int8). */
export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

export interface Range {
  min: number;
  max: number;
}

const INT32_MAX = 2 ** 31 - 1;
/** Symmetric int8 weights use [-127, 127], so -w and w quantise to opposite values. */
const WEIGHT_QMAX = 127;

/** The integer range of each activation type. */
const ACTIVATION_RANGE = { uint8: [0, 255], int8: [-128, 127] } as const;

/**
 * Asymmetric parameters covering `range` widened to include 0, for uint8 or int8 activations:
 * zero must be exact because padding and ReLU produce exact zeros (and ORT drops a ReLU before
 * a Q only when the zero point is the type's lowest value).
 */
export function activationParams(range: Range, type: keyof typeof ACTIVATION_RANGE = 'uint8'): ActivationParams {
  const [qmin, qmax] = ACTIVATION_RANGE[type];
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  const scale = Math.fround(max > min ? (max - min) / (qmax - qmin) : 1);
  const zeroPoint = Math.min(qmax, Math.max(qmin, qmin + Math.round(-min / scale)));
  return { scale, zeroPoint };
}

/** Channel count and the stride between one channel's consecutive blocks, for `axis` of `dims`. */
function channelLayout(dims: readonly number[], axis: number): { channels: number; inner: number } {
  return { channels: dims[axis], inner: dims.slice(axis + 1).reduce((a, b) => a * b, 1) };
}

/**
 * Symmetric scales, one per channel: each channel's largest |w| maps to 127, or with
 * `perTensor` the whole tensor's largest |w| (every channel then holds the same scale).
 */
export function weightScales(weight: Float32Array, dims: readonly number[], axis: number, perTensor = false): Float32Array {
  const { channels, inner } = channelLayout(dims, axis);
  const absMax = new Float32Array(channels);
  for (let i = 0; i < weight.length; i++) {
    const c = Math.floor(i / inner) % channels;
    absMax[c] = Math.max(absMax[c], Math.abs(weight[i]));
  }
  if (perTensor) absMax.fill(absMax.reduce((a, b) => Math.max(a, b), 0));
  // An all-zero channel quantises to zeros under any scale; 1 keeps the division finite.
  return absMax.map((m) => Math.fround(m > 0 ? m / WEIGHT_QMAX : 1));
}

/**
 * Raises weight scales where an int32 bias would overflow (bias / (input scale x weight scale)
 * beyond int32), which happens only for channels with near-zero weights and a real bias.
 */
export function fitScalesToBias(scales: Float32Array, bias: Float32Array, inputScale: number, perTensor = false): Float32Array {
  const fitted = scales.map((s, c) => {
    const needed = Math.abs(bias[c]) / (inputScale * INT32_MAX);
    return s >= needed ? s : Math.fround(needed * 1.01);
  });
  // One shared scale must suit the channel that needs the largest.
  return perTensor ? fitted.fill(fitted.reduce((a, b) => Math.max(a, b), 0)) : fitted;
}

export function quantizeWeight(weight: Float32Array, dims: readonly number[], axis: number, scales: Float32Array): Int8Array {
  const { channels, inner } = channelLayout(dims, axis);
  const out = new Int8Array(weight.length);
  for (let i = 0; i < weight.length; i++) {
    const q = Math.round(weight[i] / scales[Math.floor(i / inner) % channels]);
    out[i] = Math.max(-WEIGHT_QMAX, Math.min(WEIGHT_QMAX, q));
  }
  return out;
}

export function dequantizeWeight(quantized: Int8Array, dims: readonly number[], axis: number, scales: Float32Array): Float32Array {
  const { channels, inner } = channelLayout(dims, axis);
  return Float32Array.from(quantized, (q, i) => q * scales[Math.floor(i / inner) % channels]);
}

/** int32 bias with per-channel scale input scale x weight scale, as QLinearConv/QGemm add it. */
export function quantizeBias(bias: Float32Array, inputScale: number, scales: Float32Array): { data: Int32Array; scales: Float32Array } {
  const biasScales = scales.map((s) => Math.fround(inputScale * s));
  const data = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) data[c] = Math.max(-INT32_MAX, Math.min(INT32_MAX, Math.round(bias[c] / biasScales[c])));
  return { data, scales: biasScales };
}
