import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';
import { convGeometry, isPointwise, requireGradientShape, type ConvAttrs } from './conv-geometry.ts';
import { FOOTWEAR_KERNEL, matMul, requireFloat32, viewAs, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

const NAME = 'Conv2DBackpropInput';

/**
 * The wasm backend has this kernel, but as direct loops at about 1 GMAC/s, ten times slower than
 * its matrix product (measured on 1x1 convolutions of MobileNetV2's blocks 13-14 at batch 32).
 * A 1x1 stride-1 convolution's input gradient is the product dy x W^T of [pixels, out] and
 * [in, out] matrices, so that case runs as one; any other shape goes to the backend's own kernel
 * (`original`), which MobileNetV2 needs only for its first convolution, whose input gradient
 * training never asks for.
 */
export function conv2DBackpropInputConfig(tf: Tf, original: KernelFunc | undefined): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: tfjs.TensorInfo; filter: tfjs.TensorInfo };
    requireFloat32(NAME, { dy, filter });
    const { inputShape } = attrs as unknown as { inputShape: number[] };
    const g = convGeometry(tf, NAME, inputShape, filter.shape, attrs as unknown as ConvAttrs, false);
    requireGradientShape(NAME, dy.shape, g);
    if (!isPointwise(g)) {
      if (!original) throw new Error(`${NAME}: expected a 1x1 stride-1 unpadded filter (the wasm backend's own kernel, for the rest, is missing), got filter shape [${filter.shape.join(', ')}]`);
      return original(args);
    }
    const pixels = g.batch * g.inHeight * g.inWidth;
    const wasm = backend as unknown as WasmBackend;
    const dx = matMul(tf, wasm, viewAs(dy, [pixels, g.outChannels]), viewAs(filter, [g.inChannels, g.outChannels]), false, true);
    return viewAs(dx, [...inputShape]);
  };
  return { kernelName: NAME, backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
