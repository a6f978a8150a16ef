import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES, ModelError, firstLine, openModel, type InferenceRuntime, type OpenSessionOptions } from '../core/index.ts';
import { Classifier } from './classifier.ts';
import { runtimeFor } from './v2-runtime.ts';

export type LoadModelOptions = Pick<OpenSessionOptions, 'ep' | 'threads' | 'spinWait' | 'log' | 'runtimes'> & {
  /**
   * Where the model runs: a runtime, 'local' (the default: the best registered ONNX runtime) or
   * 'v2://HOST[:PORT]/MODEL', a KServe v2 / Triton server serving the same model; decoding and
   * resizing stay here either way, and the file still gives the labels and preprocessing.
   */
  runtime?: InferenceRuntime | string;
};

/** DIR/model.onnx for a folder, the path itself for a file. */
export async function resolveModelFile(pathOrDir: string): Promise<string> {
  let info;
  try {
    info = await stat(pathOrDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelError(pathOrDir, code === 'ENOENT' ? 'no such model file or folder' : `cannot access (${code ?? firstLine(error)})`);
  }
  if (!info.isDirectory()) return regularFile(pathOrDir, info);
  const file = path.join(pathOrDir, MODEL_FILES.onnx);
  try {
    info = await stat(file);
  } catch {
    throw new ModelError(file, `model folder has no ${MODEL_FILES.onnx}`);
  }
  return regularFile(file, info);
}

/** Reading a FIFO would block forever and a device would never end, so only plain files are read. */
function regularFile(file: string, info: Stats): string {
  if (info.isFile()) return file;
  throw new ModelError(file, info.isDirectory() ? 'is a folder, not a model file' : 'not a regular file (a FIFO, socket or device)');
}

/** The bytes of a model file, or a ModelError naming it. */
export async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new ModelError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? firstLine(error)})`);
  }
}

/**
 * Loads an exported footwear model (a folder holding model.onnx, or the .onnx file itself).
 * Every problem with the file surfaces as one ModelError naming the file and the reason.
 */
export async function loadModel(pathOrDir: string, options: LoadModelOptions = {}): Promise<Classifier> {
  const file = await resolveModelFile(pathOrDir);
  const runtime = typeof options.runtime === 'string' ? runtimeFor(options.runtime, { log: options.log }) : options.runtime;
  const { session, spec } = await openModel(await readModelFile(file), file, { ...options, runtime });
  return new Classifier(session, spec, file);
}
