import type { Argv } from 'yargs';
import { buildWebSite } from '../../web/index.ts';

// `footwear web build --model DIR --out DIR`. Registered by src/cli/index.ts as
// .command('web <action>', ..., webOptions, run(webCommand)).

export interface WebArgs {
  action: 'build';
  model: string;
  out: string;
}

export function webOptions(yargs: Argv) {
  return yargs
    .positional('action', { choices: ['build'] as const, demandOption: true, describe: 'build: write a static site that classifies photos in the browser' })
    .option('model', { type: 'string', demandOption: true, describe: 'model directory (model.onnx, and model.int8.onnx if present) or .onnx file' })
    .option('out', { type: 'string', demandOption: true, describe: 'folder for the site; an earlier site there is replaced once the new one is complete' })
    .example('$0 web build --model models/shoes --out site', 'then serve site/ with COOP/COEP headers, e.g. footwear serve --web site');
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export async function webCommand(args: WebArgs): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const site = await buildWebSite({ model: args.model, out: args.out });
  say(`wrote ${site.files.length} files (${megabytes(site.sizes.total)} with precompressed .br/.gz copies) to ${site.out} for labels ${site.spec.labels.join(', ')}`);
  const paths = Object.entries(site.sizes.download).map(([name, bytes]) => `${megabytes(bytes)} on the ${name === 'webgpu' ? 'WebGPU' : name} path`);
  say(`a browser downloads ${paths.join(', ')} (compressed; served as such by footwear serve --web, or any server that sends FILE.br/FILE.gz)`);
  say('serve it over HTTP(S); with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp the page also runs multi-threaded');
  return 0;
}
