import os from 'node:os';
import type { Argv } from 'yargs';
import { loadTf } from '../../backbone/index.ts';
import { CUDA_INSTALL_HINT, resolveRuntime } from '../../core/index.ts';
import { packageVersion as version } from '../../node/index.ts';
import { examples } from '../examples.ts';

export function doctorOptions(yargs: Argv) {
  return yargs
    .option('json', { type: 'boolean', default: false, describe: 'print the report as one JSON object on stdout' })
    .epilogue(
      examples(
        ['footwear doctor', 'what runs here, and what to install for the GPU paths'],
      ),
    );
}

export interface DoctorReport {
  node: string;
  platform: string;
  cpus: number;
  packages: Record<string, string | null>;
  tfjs: { backend: string; gpu: boolean; canTrainConvolutions: boolean };
  onnxruntime: { runtime: string; providers: Record<string, string> };
  hints: string[];
}

/** What runs here and what a GPU user would install; `--json` for scripts. */
export async function doctorReport(): Promise<DoctorReport> {
  const packages: Record<string, string | null> = {};
  for (const pkg of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node', 'onnxruntime-web', 'sharp']) {
    packages[pkg] = version(pkg) ?? null;
  }
  const tf = await loadTf();
  const runtime = await resolveRuntime();
  const providers: Record<string, string> = { cpu: 'available' };
  const cudaReason = await runtime.unavailableReason?.('cuda');
  providers.cuda = cudaReason === undefined ? 'available' : `unavailable: ${cudaReason}`;
  const hints: string[] = [];
  if (cudaReason !== undefined) hints.push(`GPU inference: ${CUDA_INSTALL_HINT}`);
  if (!tf.gpu) hints.push('GPU training: npm install @tensorflow/tfjs-node-gpu (needs CUDA 11.2 + cuDNN 8.1; its install downloads libtensorflow)');
  return {
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
    cpus: os.cpus().length,
    packages,
    tfjs: { backend: tf.backend, gpu: tf.gpu, canTrainConvolutions: tf.canTrainConvolutions },
    onnxruntime: { runtime: runtime.name, providers },
    hints,
  };
}

export async function doctorCommand(args: { json: boolean }): Promise<number> {
  const r = await doctorReport();
  if (args.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  }
  const lines = [`node ${r.node} on ${r.platform}, ${r.cpus} CPUs`];
  for (const [pkg, v] of Object.entries(r.packages)) lines.push(`  ${pkg.padEnd(32)} ${v ?? 'not installed'}`);
  lines.push(`TF.js backend: ${r.tfjs.backend}${r.tfjs.gpu ? ' (GPU)' : ''}`);
  lines.push(`ONNX Runtime (${r.onnxruntime.runtime}) execution providers:`);
  for (const [ep, state] of Object.entries(r.onnxruntime.providers)) lines.push(`  ${ep.padEnd(6)} ${state}`);
  for (const hint of r.hints) lines.push(`hint: ${hint}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
