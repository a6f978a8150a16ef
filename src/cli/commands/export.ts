import type { Argv } from 'yargs';
import { ExportError, TRITON_DEFAULTS, exportTriton } from '../../deploy/index.ts';
import { examples } from '../examples.ts';

// `footwear export triton ...`. Registered by src/cli/index.ts as
// .command('export <target>', ..., exportOptions, run(exportCommand)).

export interface ExportArgs {
  target: 'triton';
  model: string;
  out: string;
  name?: string;
  'max-batch-size': number;
  'preferred-batch-sizes'?: string;
  'max-queue-delay-us': number;
  instances: number;
  gpu: boolean;
  json: boolean;
}

export function exportOptions(yargs: Argv) {
  const d = TRITON_DEFAULTS;
  return yargs
    .positional('target', { choices: ['triton'] as const, demandOption: true, describe: 'triton: a Triton Inference Server model repository entry (ONNX Runtime backend)' })
    .option('model', { type: 'string', demandOption: true, describe: 'model directory (holding model.onnx) or .onnx file, as footwear train/convert wrote it' })
    .option('out', { type: 'string', demandOption: true, describe: 'model repository folder; REPO/NAME is replaced once the new entry is complete, other models are left alone' })
    .option('name', { type: 'string', describe: 'model name in the repository and in v2/models/NAME URLs', defaultDescription: "the model folder's name (a file's name without .onnx)" })
    .option('max-batch-size', { type: 'number', default: d.maxBatchSize, describe: 'largest batch Triton forms (0: no batching, for models without a dynamic batch dimension)' })
    .option('preferred-batch-sizes', { type: 'string', describe: 'comma-separated batch sizes the dynamic batcher aims for, e.g. 16,32', defaultDescription: 'none (the largest batch it can)' })
    .option('max-queue-delay-us', { type: 'number', default: d.maxQueueDelayUs, describe: 'longest a request waits in Triton for others to batch with, in microseconds' })
    .option('instances', { type: 'number', default: d.instances, describe: 'model instances per device (per GPU with --gpu, else on the CPU)' })
    .option('gpu', { type: 'boolean', default: d.gpu, describe: 'run on GPUs (KIND_GPU) through TensorRT in FP16 instead of on CPUs (KIND_CPU)' })
    .option('json', { type: 'boolean', default: false, describe: 'print what was written as one JSON object on stdout' })
    .epilogue(
      examples(
        ['footwear export triton --model models/shoes --out model-repository', 'then: tritonserver --model-repository model-repository'],
        ['footwear export triton --model models/shoes --out repo --name shoes --gpu --preferred-batch-sizes 32,64', 'GPU instances with TensorRT FP16'],
      ),
    );
}

/** "16,32" -> [16, 32]; anything but comma-separated integers is an error naming the flag. */
export function parseBatchSizes(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '') return [];
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new ExportError(`--preferred-batch-sizes should be comma-separated integers like 16,32, got ${JSON.stringify(text)}`);
  return parts.map(Number);
}

export async function exportCommand(args: ExportArgs): Promise<number> {
  const written = await exportTriton({
    model: args.model,
    out: args.out,
    name: args.name,
    maxBatchSize: args['max-batch-size'],
    preferredBatchSizes: parseBatchSizes(args['preferred-batch-sizes']),
    maxQueueDelayUs: args['max-queue-delay-us'],
    instances: args.instances,
    gpu: args.gpu,
  });
  if (args.json) {
    const { repository, name, dir, source, labels, files } = written;
    process.stdout.write(`${JSON.stringify({ repository, name, dir, source, labels, files }, null, 2)}\n`);
    return 0;
  }
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(`wrote ${written.dir}: ${written.files.map((f) => f.path.slice(written.name.length + 1)).join(', ')} (labels: ${written.labels.join(', ')})`);
  say(`serve it with: tritonserver --model-repository ${written.repository}`);
  return 0;
}
