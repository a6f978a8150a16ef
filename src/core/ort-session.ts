import type { OnnxOutput, OnnxSession } from './runtime.ts';

// onnxruntime-node and onnxruntime-web expose the same InferenceSession and Tensor surface; this
// is the one adapter from that surface to OnnxSession, so the two shells differ only in which
// module they load and how they pick providers.

/** The part of an onnxruntime Tensor read here. */
export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The part of an onnxruntime InferenceSession used here. */
export interface OrtInferenceSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, never>, fetches: string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** Makes a float32 tensor of the session's own onnxruntime module (each build has its own Tensor class). */
export type Float32TensorFactory = (data: Float32Array, dims: number[]) => unknown;

export class OrtSession implements OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly session: OrtInferenceSessionLike,
    private readonly tensor: Float32TensorFactory,
    readonly executionProvider: string,
  ) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
  }

  async run(input: Float32Array, dims: readonly number[]): Promise<OnnxOutput> {
    // Fetching only the first output keeps ONNX Runtime from computing or copying the others.
    const outputName = this.outputNames[0];
    return (await this.runOutputs(input, dims, [outputName]))[outputName];
  }

  async runOutputs(input: Float32Array, dims: readonly number[], names: readonly string[]): Promise<Record<string, OnnxOutput>> {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (input.length !== expected) throw new Error(`input holds ${input.length} values but dims [${dims.join(', ')}] need ${expected}`);
    const feeds = { [this.inputNames[0]]: this.tensor(input, [...dims]) } as Record<string, never>;
    const results = await this.session.run(feeds, [...names]);
    const outputs: Record<string, OnnxOutput> = {};
    for (const name of names) {
      const output = results[name];
      if (output.type !== 'float32') throw new Error(`output "${name}" is ${output.type}, expected float32`);
      outputs[name] = { data: output.data as Float32Array, dims: [...output.dims] };
    }
    return outputs;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
