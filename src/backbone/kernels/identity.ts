import type * as tfjs from '@tensorflow/tfjs';
import { FOOTWEAR_KERNEL, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

/**
 * The wasm backend's Identity copies its input; tensors are immutable, so the output can share
 * the input's data with one more reference, as the cpu backend's Identity and the wasm Reshape
 * do. The gradients of fused convolutions and batch normalisation call it on whole activations,
 * a dozen 14 MB copies per training step of MobileNetV2's blocks 13-14 at batch 32. Strings,
 * which live outside the heap, go to the backend's own kernel.
 */
export function identityConfig(_tf: unknown, original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as tfjs.TensorInfo;
    if (x.dtype === 'string') {
      if (!original) throw new Error('Identity: expected a numeric or bool tensor (the wasm backend\'s own kernel, for strings, is missing), got dtype string');
      return original(args);
    }
    (args.backend as unknown as WasmBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  return { kernelName: 'Identity', backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
