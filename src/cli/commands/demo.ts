import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Argv } from 'yargs';
import { writeFashionMnistFootwear } from '../../demo/fashion-mnist.ts';
import { evaluate } from '../../eval/index.ts';
import { loadModel } from '../../node/index.ts';
import { defaultTrainOptions } from '../../train/index.ts';
import { integerFlag } from '../flags.ts';
import { formatReport } from './eval.ts';
import { runTraining, trainSummary } from './train.ts';
import { examples } from '../examples.ts';

export function demoOptions(yargs: Argv) {
  return yargs
    .option('out', { type: 'string', requiresArg: true, default: path.join('models', 'demo'), describe: 'model directory to write (its data/ holds the images)' })
    .option('train-per-class', { type: 'number', requiresArg: true, default: 300, describe: 'Fashion-MNIST images per class to train on' })
    .option('test-per-class', { type: 'number', requiresArg: true, default: 200, describe: 'Fashion-MNIST images per class to evaluate on' })
    .option('json', { type: 'boolean', default: false, describe: 'print training, evaluation and a prediction as one JSON object on stdout' })
    .epilogue(
      examples(
        ['footwear demo', 'train, export, evaluate and predict in a few minutes on a CPU'],
        ['footwear demo --train-per-class 1000 --out models/demo-big', 'a bigger training set'],
      ),
    );
}

/** The main job on a built-in default: Fashion-MNIST footwear -> train -> ONNX -> eval -> predict. */
export async function demoCommand(args: { out: string; 'train-per-class': number; 'test-per-class': number; json: boolean }): Promise<number> {
  const say = (line: string) => process.stderr.write(`${line}\n`);
  integerFlag('train-per-class', args['train-per-class']);
  integerFlag('test-per-class', args['test-per-class']);
  const dataRoot = path.join(args.out, 'data');
  await rm(dataRoot, { recursive: true, force: true });
  say(`demo: writing Fashion-MNIST footwear images (Sandal, Sneaker, Ankle_boot) to ${dataRoot}`);
  const data = await writeFashionMnistFootwear(dataRoot, { train: args['train-per-class'], test: args['test-per-class'] });
  const options = defaultTrainOptions(data.train, args.out);
  const trained = await runTraining(options, args.json);
  if (!args.json) say(trainSummary(trained));
  const classifier = await loadModel(args.out, { log: say });
  const report = await evaluate(classifier, data.test);
  const sampleDir = path.join(data.test, 'Sneaker');
  const sample = path.join(sampleDir, (await readdir(sampleDir))[0]);
  let prediction;
  for await (const result of classifier.classifyFiles([sample])) prediction = result;
  if (!prediction) throw new Error(`no prediction for ${sample}`);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ train: trained, eval: report, prediction }, null, 2)}\n`);
  } else {
    say(formatReport(report));
    say(`predict ${sample}: ${'label' in prediction ? `${prediction.label} (${prediction.score.toFixed(3)})` : prediction.error.message}`);
    say(`model written to ${args.out}; try: npx footwear predict --model ${args.out} ${data.test}`);
  }
  return 0;
}
