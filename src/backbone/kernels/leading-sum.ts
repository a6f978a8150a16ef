import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';
import { vectorLoops } from './simd-loops.ts';
import { floatIndex, FOOTWEAR_KERNEL, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

/**
 * Sum and Mean over a run of axes that leaves the last one, as batch normalisation reduces NHWC
 * activations over [0, 1, 2] (its statistics, and its gradient's sums) and global average pooling
 * over [1, 2]. The wasm backend's own kernels first transpose the reduced axes innermost, a copy of
 * the whole activation that cost more than the sums; here each row of the kept trailing axes is
 * added into the output as it lies. Other reductions, and non-float32 data, go to the backend's
 * own kernels.
 */
function reductionConfig(tf: Tf, name: 'Sum' | 'Mean', original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tfjs.TensorInfo };
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const rank = x.shape.length;
    const contiguous = axes.length > 0 && axes.every((a, i) => a === axes[0] + i) && axes[axes.length - 1] < rank - 1;
    const outer = x.shape.slice(0, axes[0]).reduce((a, b) => a * b, 1);
    const reduced = axes.reduce((n, a) => n * x.shape[a], 1);
    const inner = x.shape.slice(axes[axes.length - 1] + 1).reduce((a, b) => a * b, 1);
    // Narrow rows would cost a call per few floats: the transposing kernel does better there.
    if (x.dtype !== 'float32' || !contiguous || reduced === 0 || inner < 4) {
      if (!original) throw new Error(`${name}: expected float32 data reduced over a run of axes short of the last (the wasm backend's own kernel, for the rest, is missing), got dtype ${x.dtype} and axes [${axes.join(', ')}] of shape [${x.shape.join(', ')}]`);
      return original(args);
    }
    const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const wasm = backend as unknown as WasmBackend;
    const out = wasm.makeOutput(shape, 'float32');
    const heap = wasm.wasm.HEAPF32;
    const [outAt, xAt] = [floatIndex(wasm, out), floatIndex(wasm, x)];
    heap.fill(0, outAt, outAt + outer * inner);
    const { add } = vectorLoops(wasm);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < reduced; r++) add(outAt + o * inner, xAt + (o * reduced + r) * inner, inner);
    }
    if (name === 'Mean') for (let i = outAt; i < outAt + outer * inner; i++) heap[i] /= reduced;
    return out;
  };
  return { kernelName: name, backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}

export const sumConfig = (tf: Tf, original: KernelFunc | undefined) => reductionConfig(tf, 'Sum', original);
export const meanConfig = (tf: Tf, original: KernelFunc | undefined) => reductionConfig(tf, 'Mean', original);
