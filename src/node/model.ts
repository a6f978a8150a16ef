import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES, ModelError, firstLine, openModel, type OpenSessionOptions } from '../core/index.ts';
import { Classifier } from './classifier.ts';

export type LoadModelOptions = Pick<OpenSessionOptions, 'ep' | 'threads' | 'spinWait' | 'log' | 'runtimes' | 'runtime'>;

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
  const { session, spec } = await openModel(await readModelFile(file), file, options);
  return new Classifier(session, spec, file);
}
