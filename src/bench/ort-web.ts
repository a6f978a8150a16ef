import os from 'node:os';
import type { OnnxOutput, OnnxSession } from '../infer/index.ts';
import type { PreprocessSpec } from '../spec/index.ts';
import { rawOrtRows } from './raw-ort.ts';
import type { BenchContext } from './row.ts';
import type { BenchRow, VariantName } from './types.ts';

// onnxruntime-web's wasm build, imported in Node directly (its package has a Node entry that
// loads the same .wasm the browser gets). Not through src/web/web-runtime.ts: that module
// registers a runtime as a side effect, and the bench must not change what predict resolves.

/** wasm threads: as the browser page picks them when cross-origin isolated (at most 4). */
export function ortWebThreads(requested?: number): number {
  return requested ?? Math.max(1, Math.min(4, os.availableParallelism()));
}

/** The model on ready tensors through onnxruntime-web, one row per batch size. */
export async function ortWebRows(
  model: Uint8Array,
  inputs: readonly Float32Array[],
  spec: PreprocessSpec,
  batchSizes: readonly number[],
  images: number,
  variant: VariantName,
  context: BenchContext,
  threads = ortWebThreads(),
): Promise<BenchRow[]> {
  const ort = await import('onnxruntime-web');
  ort.env.logLevel = 'error';
  // ORT fixes the thread count when its wasm first loads; later sessions in the process keep it.
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const adapter: OnnxSession = {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    executionProvider: 'wasm',
    async run(input: Float32Array, dims: readonly number[]): Promise<OnnxOutput> {
      const results = await session.run({ [inputName]: new ort.Tensor('float32', input, [...dims]) }, [outputName]);
      const output = results[outputName];
      return { data: output.data as Float32Array, dims: [...output.dims] };
    },
    release: () => session.release(),
  };
  try {
    const actual = ort.env.wasm.numThreads ?? threads;
    return await rawOrtRows(adapter, inputs, spec, batchSizes, images, variant, context, `onnxruntime-web (wasm, ${actual} thread${actual === 1 ? '' : 's'})`, 'ort-web');
  } finally {
    await adapter.release();
  }
}
