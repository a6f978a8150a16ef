import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { MODEL_FILES } from '../../src/core/index.ts';
import type { VariantName } from './types.ts';

export interface VariantFile {
  variant: VariantName;
  file: string;
}

/**
 * The model files to bench: model.onnx (fp32) and, when `footwear convert --quantize` has
 * written them beside it, model.int8.onnx and model.fp16.onnx. `model` is the model folder or
 * an .onnx file (whose X.int8.onnx / X.fp16.onnx siblings count the same way).
 */
export function modelVariants(model: string): { dir: string; files: VariantFile[] } {
  const isDir = existsSync(model) && statSync(model).isDirectory();
  const fp32 = isDir ? path.join(model, MODEL_FILES.onnx) : model;
  const stem = fp32.replace(/\.onnx$/i, '');
  const files: VariantFile[] = [{ variant: 'fp32', file: fp32 }];
  for (const variant of ['int8', 'fp16'] as const) {
    const file = `${stem}.${variant}.onnx`;
    if (existsSync(file)) files.push({ variant, file });
  }
  return { dir: isDir ? model : path.dirname(model), files };
}
