import { createRequire } from 'node:module';
import path from 'node:path';
import * as tfjs from '@tensorflow/tfjs';
import { registerGradientKernels } from './kernels/index.ts';
import { speedUpTransposedMatMul } from './wasm-matmul.ts';

import type { Tf } from './tf-module.ts';

export type { Tf };

export interface TfRuntime {
  tf: Tf;
  /** Which TF.js package and backend run: 'tfjs-node-gpu', 'tfjs-node', 'wasm' or 'cpu'. */
  backend: string;
  /** Whether conv layers can be trained here (on wasm, thanks to the gradient kernels of ./kernels/). */
  canTrainConvolutions: boolean;
  gpu: boolean;
}

let runtime: Promise<TfRuntime> | undefined;

async function tryImport(name: string): Promise<Tf | undefined> {
  try {
    return (await import(name)) as Tf;
  } catch {
    return undefined;
  }
}

/**
 * Picks the fastest TF.js available: the native GPU or CPU bindings when installed (optional
 * peers: their install downloads libtensorflow, so `npm ci` never requires them), else the
 * portable package on the wasm backend.
 */
export function loadTf(preferred?: 'wasm' | 'cpu'): Promise<TfRuntime> {
  runtime ??= (async () => {
    if (!preferred) {
      for (const [pkg, gpu] of [['@tensorflow/tfjs-node-gpu', true], ['@tensorflow/tfjs-node', false]] as const) {
        const tf = await tryImport(pkg);
        if (tf) return { tf, backend: pkg.replace('@tensorflow/', ''), canTrainConvolutions: true, gpu };
      }
    }
    const tf = tfjs;
    if (preferred !== 'cpu') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
      wasm.setWasmPaths(dist + path.sep);
      if (await tf.setBackend('wasm').catch(() => false)) {
        await tf.ready();
        speedUpTransposedMatMul(tf);
        registerGradientKernels(tf);
        return { tf, backend: 'wasm', canTrainConvolutions: true, gpu: false };
      }
    }
    await tf.setBackend('cpu');
    await tf.ready();
    return { tf, backend: 'cpu', canTrainConvolutions: true, gpu: false };
  })();
  return runtime;
}
