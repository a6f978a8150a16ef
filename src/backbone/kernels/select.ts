import type * as tfjs from '@tensorflow/tfjs';
import { vectorLoops } from './simd-loops.ts';
import { allFloat32OfShape, byteOffset, FOOTWEAR_KERNEL, floatIndex, sizeOf, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

/**
 * Select (tf.where) of float32 tensors by a bool condition, all of one shape: how ReLU6's
 * gradient keeps dy where the activation was inside 0..6. Four lanes at a time with a bit
 * select; the wasm backend's kernel takes about 5 ns per element. Other cases (a rank-1
 * condition picking rows, other dtypes) go to the backend's own kernel.
 */
export function selectConfig(_tf: unknown, original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { condition, t, e } = args.inputs as { condition: tfjs.TensorInfo; t: tfjs.TensorInfo; e: tfjs.TensorInfo };
    const sameShape = condition.shape.length === t.shape.length && condition.shape.every((d, i) => d === t.shape[i]);
    if (condition.dtype !== 'bool' || !sameShape || !allFloat32OfShape(t.shape, t, e)) {
      if (!original) throw new Error(`Select: expected a bool condition and float32 values, all of one shape (the wasm backend's own kernel, for the rest, is missing), got [${condition.shape.join(', ')}] ${condition.dtype}, [${t.shape.join(', ')}] ${t.dtype} and [${e.shape.join(', ')}] ${e.dtype}`);
      return original(args);
    }
    const wasm = args.backend as unknown as WasmBackend;
    const out = wasm.makeOutput([...t.shape], 'float32');
    vectorLoops(wasm).select(floatIndex(wasm, out), byteOffset(wasm, condition), floatIndex(wasm, t), floatIndex(wasm, e), sizeOf(t.shape));
    return out;
  };
  return { kernelName: 'Select', backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
