import { isFailure } from '../../src/core/index.ts';
import { readFile } from 'node:fs/promises';
import { resizeToInput } from '../../src/core/index.ts';
import { decodeWithSharp, prepareFile } from '../../src/node/index.ts';
import type { PreprocessSpec } from '../../src/core/index.ts';
import { measureRow, type BenchContext } from './row.ts';
import type { BenchRow } from './types.ts';

/**
 * Preprocessing alone: each photo read, decoded and resized into one reused buffer, one after
 * another on this thread (decoding itself runs on libuv's pool). Its CPU per image is the share
 * of the machine predict spends before the model sees a photo.
 */
export async function prepareRow(files: readonly string[], spec: PreprocessSpec, context: BenchContext): Promise<BenchRow> {
  const slot = { out: new Float32Array(spec.width * spec.height * 3), offset: 0 };
  const prepareAll = async (list: readonly string[]) => {
    for (const file of list) {
      const prepared = await prepareFile(file, spec, undefined, slot);
      if (isFailure(prepared)) throw new Error(`${file}: ${prepared.error.message}`);
    }
    return list.length;
  };
  await prepareAll(files.slice(0, 20)); // JIT-compiles the resampler
  return measureRow({ kind: 'prepare', runtime: 'footwear decode (wasm libjpeg-turbo for plain JPEGs, else sharp) + resize, one thread', variant: 'fp32', batchSize: 1 }, context, () => prepareAll(files));
}

/**
 * Preprocessing as it was before the wasm JPEG decoder: every photo through sharp (libvips), then
 * the same resize. Measured beside prepareRow, under the same load, so "before/after" is one run.
 */
export async function prepareSharpRow(files: readonly string[], spec: PreprocessSpec, context: BenchContext): Promise<BenchRow> {
  const prepareAll = async (list: readonly string[]) => {
    for (const file of list) {
      const decoded = await decodeWithSharp(await readFile(file), file, spec.background);
      resizeToInput(decoded.data, decoded.width, decoded.height, 3, spec);
    }
    return list.length;
  };
  await prepareAll(files.slice(0, 20));
  return measureRow({ kind: 'prepare-sharp', runtime: 'sharp decode (libvips) + resize, one thread', variant: 'fp32', batchSize: 1 }, context, () => prepareAll(files));
}
