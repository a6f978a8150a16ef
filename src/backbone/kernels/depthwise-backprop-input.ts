import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';
import { vectorLoops } from './simd-loops.ts';
import { convGeometry, requireGradientShape, type ConvAttrs } from './conv-geometry.ts';
import { forEachTap } from './filter-taps.ts';
import { floatIndex, FOOTWEAR_KERNEL, requireFloat32, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

const NAME = 'DepthwiseConv2dNativeBackpropInput';

/**
 * dx[pixel][ch] = sum over the (output pixel, tap) pairs that read it of dy[ch] * w[tap][ch]:
 * each output pixel's gradient is scattered back through the taps. Input pixels that no tap
 * reads (a 'valid' stride-2 convolution's last row and column) keep gradient zero.
 */
export function depthwiseBackpropInputConfig(tf: Tf): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: tfjs.TensorInfo; filter: tfjs.TensorInfo };
    requireFloat32(NAME, { dy, filter });
    const { inputShape } = attrs as unknown as { inputShape: number[] };
    const g = convGeometry(tf, NAME, inputShape, filter.shape, attrs as unknown as ConvAttrs, true);
    requireGradientShape(NAME, dy.shape, g);
    const wasm = backend as unknown as WasmBackend;
    const dx = wasm.makeOutput([...inputShape], 'float32');
    const channels = g.inChannels;
    const [dxAt, dyAt, filterAt] = [dx, dy, filter].map((t) => floatIndex(wasm, t));
    wasm.wasm.HEAPF32.fill(0, dxAt, dxAt + g.batch * g.inHeight * g.inWidth * channels);
    const { madd } = vectorLoops(wasm);
    forEachTap(g, (inputPixel, outputPixel, tap) => madd(dxAt + inputPixel * channels, dyAt + outputPixel * channels, filterAt + tap * channels, channels));
    return dx;
  };
  return { kernelName: NAME, backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}
