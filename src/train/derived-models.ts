import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES } from '../core/index.ts';

/**
 * Quantised copies (model.int8.onnx, model.fp16.onnx) of the model this run replaced would still
 * answer, with the old classes, to whoever opens them; they go when the new model.onnx is in place.
 */
export async function removeDerivedModels(dir: string, log: (line: string) => void): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name === MODEL_FILES.onnx || !/^model\..+\.onnx$/.test(name)) continue;
    await rm(path.join(dir, name), { force: true });
    log(`removed ${path.join(dir, name)}: it was made from the model this run replaced (footwear convert --quantize makes it again)`);
  }
}
