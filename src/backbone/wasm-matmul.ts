import type * as tfjs from '@tensorflow/tfjs';
import type { Tf } from './tf-module.ts';

type KernelFunc = tfjs.KernelConfig['kernelFunc'];

/**
 * The wasm backend multiplies transposed operands about 10x slower than plain ones (measured:
 * 0.6 vs 8 GMAC/s for a 1568x960 by 960x320 product on this machine), and back-propagation asks
 * for transposed products on every step. This wraps its BatchMatMul kernel so transposed operands
 * are materialised once by the Transpose kernel and multiplied plainly. Results are the same
 * products; only the memory layout of the inputs differs.
 */
export function speedUpTransposedMatMul(tf: Tf): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original as { footwearPatched?: boolean }).footwearPatched) return;
  const run = original.kernelFunc as KernelFunc;
  const transposeLastTwo = (x: tfjs.TensorInfo, backend: unknown): tfjs.TensorInfo => {
    const perm = x.shape.map((_, i) => i);
    [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
    return (transpose.kernelFunc as KernelFunc)({ inputs: { x }, backend: backend as never, attrs: { perm } }) as tfjs.TensorInfo;
  };
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return run({ inputs, backend, attrs });
    const temporaries: tfjs.TensorInfo[] = [];
    const a = transposeA ? transposeLastTwo(inputs.a as tfjs.TensorInfo, backend) : (inputs.a as tfjs.TensorInfo);
    const b = transposeB ? transposeLastTwo(inputs.b as tfjs.TensorInfo, backend) : (inputs.b as tfjs.TensorInfo);
    if (transposeA) temporaries.push(a);
    if (transposeB) temporaries.push(b);
    try {
      return run({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temporaries) (backend as { disposeData(id: unknown): void }).disposeData(t.dataId);
    }
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc, footwearPatched: true } as tfjs.KernelConfig);
}
