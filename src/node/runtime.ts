import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { InferenceRuntime, OnnxOutput, OnnxSession, RuntimeSessionOptions } from '../core/index.ts';

// onnxruntime-node behind the runtime interface (src/core/runtime.ts).

class NodeSession implements OnnxSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly session: ort.InferenceSession,
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
    const results = await this.session.run({ [this.inputNames[0]]: new ort.Tensor('float32', input, [...dims]) }, [...names]);
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

/** Where the native binding lives; optional providers' libraries must sit next to it. */
function bindingFolder(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return path.join(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

function displayPath(target: string): string {
  const relative = path.relative(process.cwd(), target);
  return relative.startsWith('..') || path.isAbsolute(relative) ? target : relative;
}

export const nodeRuntime: InferenceRuntime = {
  name: 'onnxruntime-node',
  devices: { accelerator: 'cuda', cpu: 'cpu' },

  async unavailableReason(provider: string): Promise<string | undefined> {
    if (provider === 'cpu') return undefined;
    const platform = `${process.platform}/${process.arch}`;
    const backend = ort.listSupportedBackends().find((b) => b.name === provider);
    if (!backend) return `onnxruntime-node ${ort.env.versions.common} has no ${provider} support on ${platform}`;
    if (backend.bundled) return undefined;
    // Unbundled providers are downloaded by the package's install script; asking ONNX Runtime to
    // load a missing one prints native error lines to stderr, so look for the library first.
    const folder = bindingFolder();
    const library = existsSync(folder) ? readdirSync(folder).find((file) => file.includes(`providers_${provider}`)) : undefined;
    if (!library) return `its libraries are not installed: no onnxruntime_providers_${provider} library in ${displayPath(folder)}`;
    return undefined;
  },

  async createSession(model: Uint8Array, options: RuntimeSessionOptions): Promise<OnnxSession> {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: options.executionProviders,
      graphOptimizationLevel: 'all',
      ...(options.intraOpNumThreads !== undefined && { intraOpNumThreads: options.intraOpNumThreads }),
      ...(options.spinWait === false && { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } }),
    });
    return new NodeSession(session, options.executionProviders[0]);
  },
};

