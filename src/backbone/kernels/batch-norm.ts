import type * as tfjs from '@tensorflow/tfjs';
import { vectorLoops } from './simd-loops.ts';
import { FOOTWEAR_KERNEL, floatIndex, sizeOf, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

/**
 * FusedBatchNorm with per-channel (or single) statistics over the last axis, as every
 * BatchNormalization layer of an NHWC network runs: (x - mean) * (scale / sqrt(variance + eps))
 * + offset, the factor worked out once per channel and each pixel's row of channels done four at
 * a time. The wasm backend's kernel took about 5 ns per element, the largest share of a training
 * step after the convolutions. Other layouts go to the backend's own kernel.
 */
export function batchNormConfig(_tf: unknown, original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<'x' | 'mean' | 'variance', tfjs.TensorInfo> & Partial<Record<'offset' | 'scale', tfjs.TensorInfo>>;
    const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
    const channels = x.shape[x.shape.length - 1] ?? 1;
    const perChannel = (t: tfjs.TensorInfo | undefined) => !t || (t.dtype === 'float32' && (sizeOf(t.shape) === channels || sizeOf(t.shape) === 1) && t.shape.length <= x.shape.length);
    if (x.dtype !== 'float32' || x.shape.length === 0 || ![mean, variance, offset, scale].every(perChannel)) {
      if (!original) throw new Error(`FusedBatchNorm: expected float32 statistics of one value per channel (the wasm backend's own kernel, for the rest, is missing), got x [${x.shape.join(', ')}] and mean [${mean.shape.join(', ')}]`);
      return original(args);
    }
    const wasm = args.backend as unknown as WasmBackend;
    const out = wasm.makeOutput([...x.shape], 'float32');
    const rows = sizeOf(x.shape) / channels;
    if (rows === 0 || channels === 0) return out;
    // One row each of mean, factor and offset, so the loop reads all three as it reads x.
    const table = wasm.makeOutput([3, channels], 'float32');
    const heap = wasm.wasm.HEAPF32;
    const valueOf = (t: tfjs.TensorInfo | undefined, fallback: number) => {
      if (!t) return () => fallback;
      const at = floatIndex(wasm, t);
      return sizeOf(t.shape) === 1 ? () => heap[at] : (c: number) => heap[at + c];
    };
    const [m, v, o, s] = [valueOf(mean, 0), valueOf(variance, 1), valueOf(offset, 0), valueOf(scale, 1)];
    const [tableAt, xAt, outAt] = [floatIndex(wasm, table), floatIndex(wasm, x), floatIndex(wasm, out)];
    for (let c = 0; c < channels; c++) {
      heap[tableAt + c] = m(c);
      heap[tableAt + channels + c] = s(c) / Math.sqrt(v(c) + varianceEpsilon);
      heap[tableAt + 2 * channels + c] = o(c);
    }
    const { normalize } = vectorLoops(wasm);
    for (let r = 0; r < rows; r++) normalize(outAt + r * channels, xAt + r * channels, tableAt, tableAt + channels, tableAt + 2 * channels, channels);
    wasm.disposeData(table.dataId);
    return out;
  };
  return { kernelName: 'FusedBatchNorm', backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
