import os from 'node:os';
import { createWebRuntime } from '../../src/browser/index.ts';
import type { PreprocessSpec } from '../../src/core/index.ts';
import { rawOrtRows } from './raw-ort.ts';
import type { BenchContext } from './row.ts';
import type { BenchRow, VariantName } from './types.ts';


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
  // The browser shell's own runtime, run in Node on onnxruntime-web's Node build (the same .wasm a page gets).
  const adapter = await createWebRuntime({ threads, importOrt: () => import('onnxruntime-web') }).createSession(model, { executionProviders: ['wasm'] });
  try {
    const actual = adapter.threads;
    return await rawOrtRows(adapter, inputs, spec, batchSizes, images, variant, context, `onnxruntime-web (wasm, ${actual} thread${actual === 1 ? '' : 's'})`, 'ort-web');
  } finally {
    await adapter.release();
  }
}
