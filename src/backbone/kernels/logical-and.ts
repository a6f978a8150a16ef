import type * as tfjs from '@tensorflow/tfjs';
import { vectorLoops } from './simd-loops.ts';
import { byteOffset, FOOTWEAR_KERNEL, sizeOf, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

const sameShape = (a: tfjs.TensorInfo, b: tfjs.TensorInfo) => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/**
 * LogicalAnd of two bool tensors of one shape (ReLU6's gradient joins its two comparisons so),
 * sixteen bytes at a time; the wasm backend's broadcasting kernel takes about 5 ns per element.
 * Broadcasts go to the backend's own kernel.
 */
export function logicalAndConfig(_tf: unknown, original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tfjs.TensorInfo; b: tfjs.TensorInfo };
    if (a.dtype !== 'bool' || b.dtype !== 'bool' || !sameShape(a, b)) {
      if (!original) throw new Error(`LogicalAnd: expected bool tensors of one shape (the wasm backend's own kernel, for broadcasts, is missing), got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
      return original(args);
    }
    const wasm = args.backend as unknown as WasmBackend;
    const out = wasm.makeOutput([...a.shape], 'bool');
    vectorLoops(wasm).and(byteOffset(wasm, out), byteOffset(wasm, a), byteOffset(wasm, b), sizeOf(a.shape));
    return out;
  };
  return { kernelName: 'LogicalAnd', backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
