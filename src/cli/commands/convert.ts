import type { Argv } from 'yargs';
import { convertModelDir } from '../../convert/index.ts';

export interface ConvertArgs {
  model: string;
  out?: string;
  verify: boolean;
  json: boolean;
}

export function convertOptions(yargs: Argv) {
  return yargs
    .option('model', { type: 'string', demandOption: true, describe: 'model directory holding tfjs/model.json' })
    .option('out', { type: 'string', describe: 'ONNX file to write (default: <model>/model.onnx)' })
    .option('verify', { type: 'boolean', default: false, describe: 'compare ONNX Runtime with TF.js on random inputs' })
    .option('json', { type: 'boolean', default: false });
}

export async function convertCommand(args: ConvertArgs): Promise<number> {
  const result = await convertModelDir(args.model, { out: args.out, verify: args.verify });
  if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const v = result.verification;
    process.stderr.write(
      `wrote ${result.path} (${(result.bytes / 1e6).toFixed(1)} MB)` +
        (v ? `; verified on ${v.n} inputs: max |ONNX - TF.js| = ${v.maxAbsDiff.toExponential(2)}, same top label ${v.sameArgmax}/${v.n}` : '') +
        '\n',
    );
  }
  return 0;
}
