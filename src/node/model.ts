import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES, ModelError, firstLine, openModel, specFromModel, type InferenceRuntime, type ModelSpec, type OpenSessionOptions, type TtaSetting } from '../core/index.ts';
import { Classifier } from './classifier.ts';
import { runtimeFor } from './v2-runtime.ts';

export type LoadModelOptions = Pick<OpenSessionOptions, 'ep' | 'threads' | 'spinWait' | 'log' | 'runtimes'> & {
  /**
   * Where the model runs: a runtime, 'local' (the default: the best registered ONNX runtime) or
   * 'v2://HOST[:PORT]/MODEL', a KServe v2 / Triton server serving the same model; decoding and
   * resizing stay here either way, and the file still gives the labels and preprocessing.
   */
  runtime?: InferenceRuntime | string;
  /** Test-time augmentation for every photo: 'off' (default), 'mirror' or a view count (see core/tta.ts). */
  tta?: TtaSetting;
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
 * A derived model (model.int8.onnx, model.fp16.onnx) carries the spec of the model.onnx it was
 * made from, training date included. When a model.onnx stands beside it with another spec, the
 * folder was trained again since, and the derived file would answer for a model that is gone.
 */
export async function checkDerivedModel(file: string, spec: ModelSpec): Promise<void> {
  const parent = path.join(path.dirname(file), MODEL_FILES.onnx);
  if (path.resolve(file) === path.resolve(parent)) return;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(parent);
  } catch {
    return; // copied on its own: nothing here to disagree with
  }
  const current = specFromModel(bytes, parent);
  if (JSON.stringify(current) === JSON.stringify(spec)) return;
  const what =
    current.labels.join(',') !== spec.labels.join(',')
      ? `labels ${spec.labels.join(', ')} vs ${current.labels.join(', ')}`
      : `trained ${spec.createdAt ?? 'at an unknown time'} vs ${current.createdAt ?? 'at an unknown time'}`;
  throw new ModelError(
    file,
    `was made from another model than the ${MODEL_FILES.onnx} beside it (${what}); make it again with footwear convert --quantize, or delete it`,
  );
}

/**
 * The model file and its spec, without starting ONNX Runtime: a quick check of a path that a
 * server makes before it listens, so a wrong --model fails before anything says "listening".
 */
export async function readModelSpec(pathOrDir: string): Promise<{ file: string; spec: ModelSpec }> {
  const file = await resolveModelFile(pathOrDir);
  const spec = specFromModel(await readModelFile(file), file);
  await checkDerivedModel(file, spec);
  return { file, spec };
}

/**
 * Loads an exported footwear model (a folder holding model.onnx, or the .onnx file itself).
 * Every problem with the file surfaces as one ModelError naming the file and the reason.
 */
export async function loadModel(pathOrDir: string, options: LoadModelOptions = {}): Promise<Classifier> {
  const file = await resolveModelFile(pathOrDir);
  const bytes = await readModelFile(file);
  await checkDerivedModel(file, specFromModel(bytes, file));
  const runtime = typeof options.runtime === 'string' ? runtimeFor(options.runtime, { log: options.log }) : options.runtime;
  const { tta, ...sessionOptions } = options;
  const { session, spec } = await openModel(bytes, file, { ...sessionOptions, runtime });
  return new Classifier(session, spec, file, { tta });
}
