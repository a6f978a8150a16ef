import type * as tfjs from '@tensorflow/tfjs';
import { vectorLoops } from './simd-loops.ts';
import { byteOffset, FOOTWEAR_KERNEL, floatIndex, sizeOf, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

/**
 * GreaterEqual and LessEqual of a float32 tensor and a single float, as the gradient of ReLU6
 * (ClipByValue 0..6) asks on every activation. The wasm backend's kernels broadcast element by
 * element at about 5 ns per element, three times the time of the SIMD comparison here. Other
 * shapes and dtypes go to the backend's own kernels.
 */
function compareConfig(name: 'GreaterEqual' | 'LessEqual', original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tfjs.TensorInfo; b: tfjs.TensorInfo };
    const single = (t: tfjs.TensorInfo, other: tfjs.TensorInfo) => sizeOf(t.shape) === 1 && t.shape.length <= other.shape.length;
    // s >= x is x <= s: a single float on the left swaps the comparison.
    const [x, s, compare] = single(b, a) ? [a, b, name] : single(a, b) ? [b, a, name === 'GreaterEqual' ? 'LessEqual' : 'GreaterEqual'] : [];
    if (!x || !s || a.dtype !== 'float32' || b.dtype !== 'float32') {
      if (!original) throw new Error(`${name}: expected float32 tensors, one of them a single value (the wasm backend's own kernel, for the rest, is missing), got shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
      return original(args);
    }
    const wasm = args.backend as unknown as WasmBackend;
    const out = wasm.makeOutput([...x.shape], 'bool');
    const loops = vectorLoops(wasm);
    (compare === 'GreaterEqual' ? loops.greaterEqual : loops.lessEqual)(byteOffset(wasm, out), floatIndex(wasm, x), floatIndex(wasm, s), sizeOf(x.shape));
    return out;
  };
  return { kernelName: name, backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}

export const greaterEqualConfig = (_tf: unknown, original: KernelFunc | undefined) => compareConfig('GreaterEqual', original);
export const lessEqualConfig = (_tf: unknown, original: KernelFunc | undefined) => compareConfig('LessEqual', original);
