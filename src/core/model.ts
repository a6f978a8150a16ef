import { isUserError, UserError } from './errors.ts';
import { OnnxFormatError, readOnnxMetadata } from './onnx-metadata.ts';
import { firstLine, type OnnxSession } from './runtime.ts';
import { openSession, type OpenSessionOptions } from './session.ts';
import { SPEC_METADATA_KEY, SpecError, parseSpec, type ModelSpec } from './spec.ts';

// Opening a footwear model, the same way in Node (a file) and in a browser (a URL): the spec from
// the model's own metadata, a session through the runtime seam, and one run proving they agree.

/** A model cannot be used; the message names the file or URL and the one reason. */
export class ModelError extends UserError {
  override name = 'ModelError';
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
  }
}

/** The labels and preprocessing a footwear ONNX model carries in its metadata. */
export function specFromModel(bytes: Uint8Array, source: string): ModelSpec {
  let metadata;
  try {
    metadata = readOnnxMetadata(bytes);
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new ModelError(source, error.message);
    throw error;
  }
  const json = metadata[SPEC_METADATA_KEY];
  if (json === undefined) {
    const keys = Object.keys(metadata);
    throw new ModelError(
      source,
      `no "${SPEC_METADATA_KEY}" metadata, so its labels and preprocessing are unknown; export it with footwear ` +
        `(metadata keys found: ${keys.length ? keys.join(', ') : 'none'})`,
    );
  }
  try {
    return parseSpec(json, source);
  } catch (error) {
    // SpecError messages start with the source we passed; ModelError adds it again.
    if (error instanceof SpecError) throw new ModelError(source, error.message.replace(`${source}: `, ''));
    throw error;
  }
}

/**
 * One run on a blank image proves the model accepts the spec's input shape and yields one
 * probability per label, so a mismatched export fails at load rather than mid-folder; it also
 * warms the session up (arena allocation, WebGPU shader compilation).
 */
export async function checkModel(session: OnnxSession, spec: ModelSpec, source: string): Promise<void> {
  if (session.inputNames.length !== 1) throw new ModelError(source, `expected 1 input, the model has ${session.inputNames.length}`);
  // Sessions feed their first input and read their first output; the spec must name those.
  if (session.inputNames[0] !== spec.inputName || session.outputNames[0] !== spec.outputName) {
    throw new ModelError(
      source,
      `spec names input "${spec.inputName}" and output "${spec.outputName}" but the graph has input "${session.inputNames[0]}" and first output "${session.outputNames[0]}"`,
    );
  }
  const { height, width } = spec.preprocess;
  const dims = [1, height, width, 3];
  let output;
  try {
    output = await session.run(new Float32Array(height * width * 3), dims);
  } catch (error) {
    throw new ModelError(source, `rejects a [${dims.join(', ')}] input as its spec describes: ${firstLine(error)}`);
  }
  const labels = spec.labels.length;
  if (output.data.length !== labels) {
    throw new ModelError(source, `outputs ${output.data.length} scores per image (dims [${output.dims.join(', ')}]) but its spec lists ${labels} labels`);
  }
  // Scores are reported as probabilities, so a graph that forgot its final Softmax must not pass.
  const sum = output.data.reduce((a, b) => a + b, 0);
  if (output.data.some((p) => !(p >= 0)) || Math.abs(sum - 1) > 1e-3) {
    throw new ModelError(source, `output is not a probability distribution (scores sum to ${sum.toFixed(4)}); the graph should end with Softmax`);
  }
}

/** A session and the spec it was checked against. */
export interface OpenedModel {
  session: OnnxSession;
  spec: ModelSpec;
}

/** Reads the spec, opens a session on the best runtime and device, and checks the two agree. */
export async function openModel(bytes: Uint8Array, source: string, options: OpenSessionOptions = {}): Promise<OpenedModel> {
  const spec = specFromModel(bytes, source);
  let session: OnnxSession;
  try {
    session = await openSession(bytes, options);
  } catch (error) {
    // Device and runtime problems are not the file's fault and already say what to do.
    if (isUserError(error)) throw error;
    throw new ModelError(source, `ONNX Runtime cannot load it: ${firstLine(error)}`);
  }
  try {
    await checkModel(session, spec, source);
  } catch (error) {
    await session.release();
    throw error;
  }
  return { session, spec };
}
