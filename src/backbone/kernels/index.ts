import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';
import { batchNormConfig } from './batch-norm.ts';
import { greaterEqualConfig, lessEqualConfig } from './compare-scalar.ts';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.ts';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.ts';
import { identityConfig } from './identity.ts';
import { meanConfig, sumConfig } from './leading-sum.ts';
import { logicalAndConfig } from './logical-and.ts';
import { selectConfig } from './select.ts';
import { tileConfig } from './tile.ts';
import { FOOTWEAR_KERNEL, type KernelFunc } from './wasm-backend.ts';

export { useSimdLoops } from './simd-loops.ts';

const isOurs = (kernel: tfjs.KernelConfig | undefined): boolean => Boolean(kernel && (kernel as unknown as Record<string, unknown>)[FOOTWEAR_KERNEL]);

/** Each kernel here, given the wasm backend's own kernel of that name (if any) for the cases it leaves to it. */
const KERNELS: Record<string, (tf: Tf, original: KernelFunc | undefined) => tfjs.KernelConfig> = {
  Conv2DBackpropFilter: conv2DBackpropFilterConfig,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilterConfig,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInputConfig,
  Conv2DBackpropInput: conv2DBackpropInputConfig,
  Tile: tileConfig,
  Sum: sumConfig,
  Mean: meanConfig,
  FusedBatchNorm: batchNormConfig,
  GreaterEqual: greaterEqualConfig,
  LessEqual: lessEqualConfig,
  LogicalAnd: logicalAndConfig,
  Select: selectConfig,
  Identity: identityConfig,
};

/**
 * Registers on the wasm backend what training MobileNetV2's convolution layers needs (found by
 * running model.fit through blocks 11-16 and Conv_1 and profiling it): the three gradient kernels
 * the backend lacks (Conv2D's filter gradient, both of DepthwiseConv2dNative's), and faster
 * versions of kernels it has that took most of a training step besides the matrix products
 * (Conv2DBackpropInput; Tile, Sum, Mean and FusedBatchNorm of batch normalisation and its
 * gradient; GreaterEqual, LessEqual, LogicalAnd and Select of ReLU6's gradient; Identity), which
 * leave to the backend's own kernels the cases they do not take. Calling it again changes
 * nothing.
 */
export function registerGradientKernels(tf: Tf): void {
  for (const [name, make] of Object.entries(KERNELS)) {
    const existing = tf.getKernel(name, 'wasm');
    if (isOurs(existing)) continue;
    const config = make(tf, existing?.kernelFunc as KernelFunc | undefined);
    if (existing) tf.unregisterKernel(name, 'wasm');
    // The backend's kernel binds its C function in its setupFunc, which runs when the backend
    // starts: kept, so registering before tf.setBackend('wasm') leaves the fallback working.
    tf.registerKernel(existing?.setupFunc ? { ...config, setupFunc: existing.setupFunc } : config);
  }
}
