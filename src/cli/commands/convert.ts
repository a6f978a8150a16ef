import type { Argv } from 'yargs';
import { convertModelDir, parseQuantizeMode, QUANTIZE_MODES, type ConvertResult } from '../../convert/index.ts';
import { examples } from '../examples.ts';

export interface ConvertArgs {
  model: string;
  out?: string;
  verify: boolean;
  json: boolean;
  quantize?: string;
  calibration?: string;
}

export function convertOptions(yargs: Argv) {
  return yargs
    .option('model', { type: 'string', demandOption: true, requiresArg: true, describe: 'model directory holding tfjs/model.json' })
    .option('out', { type: 'string', requiresArg: true, describe: 'ONNX file to write', defaultDescription: '<model>/model.onnx, or <model>/model.<mode>.onnx with --quantize' })
    .option('verify', { type: 'boolean', default: false, describe: 'compare ONNX Runtime with TF.js on random inputs' })
    .option('quantize', { type: 'string', requiresArg: true, describe: `write a quantised model: ${QUANTIZE_MODES.join('|')} (int8: CPUs, calibrated; fp16: GPUs/WebGPU)`, defaultDescription: 'none (float32)' })
    .option('calibration', { type: 'string', requiresArg: true, describe: 'int8: folder-per-class images to calibrate on', defaultDescription: 'up to 100 from the training folder' })
    .option('json', { type: 'boolean', default: false, describe: 'print the result as one JSON object on stdout' })
    .epilogue(
      examples(
        ['footwear convert --model models/shoes --verify', 'write models/shoes/model.onnx and check it against TF.js'],
        ['footwear convert --model models/shoes --quantize int8', 'write models/shoes/model.int8.onnx, calibrated on training photos'],
      ),
    );
}

function summary(result: ConvertResult): string {
  const v = result.verification;
  const q = result.quantization;
  const parts = [`wrote ${result.path} (${(result.bytes / 1e6).toFixed(1)} MB)`];
  if (v) parts.push(`verified on ${v.n} inputs: max |ONNX - TF.js| = ${v.maxAbsDiff.toExponential(2)}, same top label ${v.sameArgmax}/${v.n}`);
  if (q) {
    parts.push(`${q.mode}: ${((100 * result.bytes) / q.fp32Bytes).toFixed(1)}% of the float32 size`);
    if (q.calibration) parts.push(`calibrated on ${q.calibration.images} images from ${q.calibration.folder}${q.calibration.skipped ? ` (${q.calibration.skipped} unreadable)` : ''}`);
    if (q.check) parts.push(`same top label as float32 on ${q.check.sameArgmax}/${q.check.n} of ${q.calibration ? 'them' : 'the verification inputs'}, max |difference| ${q.check.maxAbsDiff.toFixed(3)}`);
  }
  return parts.join('; ');
}

export async function convertCommand(args: ConvertArgs): Promise<number> {
  // Checked before the export so a typo fails at once, naming the accepted modes.
  const quantize = args.quantize === undefined ? undefined : parseQuantizeMode(args.quantize);
  const result = await convertModelDir(args.model, { out: args.out, verify: args.verify, quantize, calibration: args.calibration });
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stderr.write(`${summary(result)}\n`);
  return 0;
}
