import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../tf-module.ts';
import { convGeometry, isPointwise, requireGradientShape, type ConvAttrs, type ConvGeometry } from './conv-geometry.ts';
import { writeColumns } from './im2col.ts';
import { vectorLoops } from './simd-loops.ts';
import { floatIndex, FOOTWEAR_KERNEL, matMul, requireFloat32, viewAs, type KernelFunc, type WasmBackend } from './wasm-backend.ts';

const NAME = 'Conv2DBackpropFilter';

/**
 * Patch matrices are built for this many floats at most (64 MB) at a time; bigger jobs (a 3x3
 * convolution on wide feature maps at a large batch would need gigabytes) are done in chunks of
 * whole batch items whose products are summed.
 */
let patchFloats = 16 << 20;

/** Sets the patch matrix budget, in floats; tests lower it to reach the chunked path on small shapes. */
export function setPatchBudget(floats: number): void {
  patchFloats = floats;
}

/**
 * dW = patches(x)^T x dy, with dy as a [pixels, outChannels] matrix. For a 1x1 stride-1
 * convolution the patches are x itself, so the gradient is one product of the tensors as they
 * lie; otherwise the patches are written out (im2col) and multiplied. Products run on the wasm
 * BatchMatMul kernel (XNNPACK), far faster than any loop written here.
 */
export function conv2DBackpropFilterConfig(tf: Tf): tfjs.KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tfjs.TensorInfo; dy: tfjs.TensorInfo };
    requireFloat32(NAME, { x, dy });
    const { filterShape } = attrs as unknown as { filterShape: number[] };
    const g = convGeometry(tf, NAME, x.shape, filterShape, attrs as unknown as ConvAttrs, false);
    requireGradientShape(NAME, dy.shape, g);
    const wasm = backend as unknown as WasmBackend;
    const pixels = g.batch * g.outHeight * g.outWidth;
    if (isPointwise(g)) {
      const dW = matMul(tf, wasm, viewAs(x, [pixels, g.inChannels]), viewAs(dy, [pixels, g.outChannels]), true, false);
      return viewAs(dW, [...filterShape]);
    }
    return viewAs(patchProduct(tf, wasm, x, dy, g), [...filterShape]);
  };
  return { kernelName: NAME, backendName: 'wasm', kernelFunc, [FOOTWEAR_KERNEL]: true } as tfjs.KernelConfig;
}

function patchProduct(tf: Tf, wasm: WasmBackend, x: tfjs.TensorInfo, dy: tfjs.TensorInfo, g: ConvGeometry): tfjs.TensorInfo {
  const patchLength = g.filterHeight * g.filterWidth * g.inChannels;
  const pixelsPerItem = g.outHeight * g.outWidth;
  const itemsPerChunk = Math.max(1, Math.floor(patchFloats / (pixelsPerItem * patchLength)));
  const productOf = (first: number, items: number): tfjs.TensorInfo => {
    const rows = items * pixelsPerItem;
    const columns = wasm.makeOutput([rows, patchLength], 'float32');
    const whole = items === g.batch;
    const dyRows = whole ? viewAs(dy, [rows, g.outChannels]) : wasm.makeOutput([rows, g.outChannels], 'float32');
    const heap = wasm.wasm.HEAPF32;
    writeColumns(heap, floatIndex(wasm, x), g, first, items, floatIndex(wasm, columns));
    if (!whole) {
      const from = floatIndex(wasm, dy) + first * pixelsPerItem * g.outChannels;
      heap.copyWithin(floatIndex(wasm, dyRows), from, from + rows * g.outChannels);
    }
    try {
      return matMul(tf, wasm, columns, dyRows, true, false);
    } finally {
      wasm.disposeData(columns.dataId);
      if (!whole) wasm.disposeData(dyRows.dataId);
    }
  };
  if (itemsPerChunk >= g.batch) return productOf(0, g.batch);
  const size = patchLength * g.outChannels;
  const sum = wasm.makeOutput([patchLength, g.outChannels], 'float32');
  wasm.wasm.HEAPF32.fill(0, floatIndex(wasm, sum), floatIndex(wasm, sum) + size);
  for (let first = 0; first < g.batch; first += itemsPerChunk) {
    const part = productOf(first, Math.min(itemsPerChunk, g.batch - first));
    vectorLoops(wasm).add(floatIndex(wasm, sum), floatIndex(wasm, part), size);
    wasm.disposeData(part.dataId);
  }
  return sum;
}
