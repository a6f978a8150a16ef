import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';
import { vectorLoops } from './simd-loops.ts';
import { convGeometry, requireGradientShape, type ConvAttrs } from './conv-geometry.ts';
import { forEachTap } from './filter-taps.ts';
import { floatIndex, FOOTWEAR_KERNEL, requireFloat32, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

const NAME = 'DepthwiseConv2dNativeBackpropFilter';

/**
 * dW[r, c, ch] = sum over batch and output pixels of x(under tap r, c)[ch] * dy[ch]: one pass
 * over dy, each pixel's channels multiplied into each tap's row of dW. dW is small (9 x channels
 * for 3x3) and stays in cache while the pass streams x and dy.
 */
export function depthwiseBackpropFilterConfig(tf: Tf): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tfjs.TensorInfo; dy: tfjs.TensorInfo };
    requireFloat32(NAME, { x, dy });
    const { filterShape } = attrs as unknown as { filterShape: number[] };
    const g = convGeometry(tf, NAME, x.shape, filterShape, attrs as unknown as ConvAttrs, true);
    requireGradientShape(NAME, dy.shape, g);
    const wasm = backend as unknown as WasmBackend;
    const dW = wasm.makeOutput([...filterShape], 'float32');
    const channels = g.inChannels;
    const [dWAt, xAt, dyAt] = [dW, x, dy].map((t) => floatIndex(wasm, t));
    wasm.wasm.HEAPF32.fill(0, dWAt, dWAt + g.filterHeight * g.filterWidth * channels);
    const { madd } = vectorLoops(wasm);
    forEachTap(g, (inputPixel, outputPixel, tap) => madd(dWAt + tap * channels, xAt + inputPixel * channels, dyAt + outputPixel * channels, channels));
    return dW;
  };
  return { kernelName: NAME, backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
