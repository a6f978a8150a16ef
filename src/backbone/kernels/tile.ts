import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';
import { byteOffset, FOOTWEAR_KERNEL, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

const NAME = 'Tile';

/**
 * The gradient of batch normalisation tiles a per-channel vector to the whole activation
 * ([1, 1, 1, C] to [N, H, W, C]), and the wasm backend's Tile, which computes an index per
 * element, took a third of a training step of MobileNetV2's blocks 13-14 (the largest kernel in
 * the profile). Tiling is copying: each dimension's block is written once and then doubled in
 * place with copyWithin (a memmove), innermost dimension first. Strings (not in the heap) go to
 * the backend's own kernel.
 */
export function tileConfig(tf: Tf, original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tfjs.TensorInfo };
    const { reps } = attrs as unknown as { reps: number[] };
    if (!Array.isArray(reps) || reps.length !== x.shape.length || reps.some((r) => !Number.isInteger(r) || r < 0)) {
      throw new Error(`${NAME}: expected reps of ${x.shape.length} non-negative integers (one per dimension of x, shape [${x.shape.join(', ')}]), got ${JSON.stringify(reps)}`);
    }
    if (x.dtype === 'string') {
      if (!original) throw new Error(`${NAME}: expected a numeric or bool tensor (the wasm backend's own kernel, for strings, is missing), got dtype string`);
      return original(args);
    }
    const wasm = backend as unknown as WasmBackend;
    const shape = x.shape.map((d, i) => d * reps[i]);
    const out = wasm.makeOutput(shape, x.dtype);
    if (shape.some((d) => d === 0)) return out;
    const elementBytes = tf.util.bytesPerElement(x.dtype);
    const bytes = wasm.wasm.HEAPU8;
    // Bytes per step along each dimension, in x and in the output.
    const inStride = x.shape.map((_, i) => elementBytes * x.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const outStride = shape.map((_, i) => elementBytes * shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const last = x.shape.length - 1;
    /** Writes dims d.. of the x block at `from` into the output block at `to`, tiled. */
    const fill = (d: number, from: number, to: number): void => {
      if (d === last) bytes.copyWithin(to, from, from + x.shape[d] * elementBytes);
      else for (let i = 0; i < x.shape[d]; i++) fill(d + 1, from + i * inStride[d], to + i * outStride[d]);
      const block = x.shape[d] * outStride[d];
      const total = block * reps[d];
      for (let done = block; done < total; done += Math.min(done, total - done)) bytes.copyWithin(to + done, to, to + Math.min(done, total - done));
    };
    if (last < 0) bytes.copyWithin(byteOffset(wasm, out), byteOffset(wasm, x), byteOffset(wasm, x) + elementBytes);
    else fill(0, byteOffset(wasm, x), byteOffset(wasm, out));
    return out;
  };
  return { kernelName: NAME, backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
