import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { OrtSession, type InferenceRuntime, type OnnxSession, type RuntimeSessionOptions } from '../core/index.ts';

// onnxruntime-node behind the runtime interface (src/core/runtime.ts).

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
    return new OrtSession(session, (data, dims) => new ort.Tensor('float32', data, dims), options.executionProviders[0]);
  },
};

