import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES, SPEC_METADATA_KEY, SpecError, parseSpec, type ModelSpec } from '../spec/index.ts';
import { Classifier } from './classifier.ts';
import './default-runtimes.ts';
import { OnnxFormatError, readOnnxMetadata } from './metadata.ts';
import { ProviderError } from './providers.ts';
import { RuntimeError, firstLine, type OnnxSession } from './runtime.ts';
import { openSession, type OpenSessionOptions } from './session.ts';


/** A model cannot be used; the message names the file and the one reason. */
export class ModelError extends Error {
  override name = 'ModelError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export type LoadModelOptions = Pick<OpenSessionOptions, 'ep' | 'threads' | 'spinWait' | 'log' | 'runtimes'>;

/** DIR/model.onnx for a folder, the path itself for a file. */
async function resolveModelFile(pathOrDir: string): Promise<string> {
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

function specFrom(bytes: Uint8Array, file: string): ModelSpec {
  let metadata;
  try {
    metadata = readOnnxMetadata(bytes);
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new ModelError(file, error.message);
    throw error;
  }
  const json = metadata[SPEC_METADATA_KEY];
  if (json === undefined) {
    const keys = Object.keys(metadata);
    throw new ModelError(
      file,
      `no "${SPEC_METADATA_KEY}" metadata, so its labels and preprocessing are unknown; export it with footwear ` +
        `(metadata keys found: ${keys.length ? keys.join(', ') : 'none'})`,
    );
  }
  try {
    return parseSpec(json, file);
  } catch (error) {
    // SpecError messages start with the source we passed; ModelError adds the file itself.
    if (error instanceof SpecError) throw new ModelError(file, error.message.replace(`${file}: `, ''));
    throw error;
  }
}

async function openFor(bytes: Uint8Array, file: string, options: LoadModelOptions): Promise<OnnxSession> {
  try {
    return await openSession(bytes, options);
  } catch (error) {
    // Device and runtime problems are not the file's fault and already say what to do.
    if (error instanceof ProviderError || error instanceof RuntimeError || error instanceof RangeError) throw error;
    throw new ModelError(file, `ONNX Runtime cannot load it: ${firstLine(error)}`);
  }
}

/**
 * One run on a blank image proves the model accepts the spec's input shape and yields one
 * probability per label, so a mismatched export fails here rather than mid-folder.
 */
async function checkOutputs(session: OnnxSession, spec: ModelSpec, file: string): Promise<void> {
  if (session.inputNames.length !== 1) throw new ModelError(file, `expected 1 input, the model has ${session.inputNames.length}`);
  // Sessions feed their first input and read their first output; the spec must name those.
  if (session.inputNames[0] !== spec.inputName || session.outputNames[0] !== spec.outputName) {
    throw new ModelError(
      file,
      `spec names input "${spec.inputName}" and output "${spec.outputName}" but the graph has input "${session.inputNames[0]}" and first output "${session.outputNames[0]}"`,
    );
  }
  const { height, width } = spec.preprocess;
  const dims = [1, height, width, 3];
  let output;
  try {
    output = await session.run(new Float32Array(height * width * 3), dims);
  } catch (error) {
    throw new ModelError(file, `rejects a [${dims.join(', ')}] input as its spec describes: ${firstLine(error)}`);
  }
  const labels = spec.labels.length;
  if (output.data.length !== labels) {
    throw new ModelError(file, `outputs ${output.data.length} scores per image (dims [${output.dims.join(', ')}]) but its spec lists ${labels} labels`);
  }
  // Scores are reported as probabilities, so a graph that forgot its final Softmax must not pass.
  const sum = output.data.reduce((a, b) => a + b, 0);
  if (output.data.some((p) => !(p >= 0)) || Math.abs(sum - 1) > 1e-3) {
    throw new ModelError(file, `output is not a probability distribution (scores sum to ${sum.toFixed(4)}); the graph should end with Softmax`);
  }
}

async function readModelFile(pathOrDir: string): Promise<{ file: string; bytes: Uint8Array; spec: ModelSpec }> {
  const file = await resolveModelFile(pathOrDir);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ModelError(file, `cannot read (${(error as NodeJS.ErrnoException).code ?? firstLine(error)})`);
  }
  return { file, bytes, spec: specFrom(bytes, file) };
}

/**
 * The model file and its spec, without starting ONNX Runtime: a quick check of a path that a
 * server makes before it listens, so a wrong --model fails before anything says "listening".
 */
export async function readModelSpec(pathOrDir: string): Promise<{ file: string; spec: ModelSpec }> {
  const { file, spec } = await readModelFile(pathOrDir);
  return { file, spec };
}

/**
 * Loads an exported footwear model (a folder holding model.onnx, or the .onnx file itself).
 * Every problem with the file surfaces as one ModelError naming the file and the reason.
 */
export async function loadModel(pathOrDir: string, options: LoadModelOptions = {}): Promise<Classifier> {
  const { file, bytes, spec } = await readModelFile(pathOrDir);
  const session = await openFor(bytes, file, options);
  try {
    await checkOutputs(session, spec, file);
  } catch (error) {
    await session.release();
    throw error;
  }
  return new Classifier(session, spec, file);
}
