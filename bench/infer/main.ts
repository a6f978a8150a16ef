// `npm run bench:infer -- --model DIR [--write]`: the inference bench as a command (see command.ts).
import yargs from 'yargs';
import { isUserError } from '../../src/core/index.ts';
import { benchCommand, benchOptions, type BenchArgs } from './command.ts';

try {
  const args = (await benchOptions(yargs(process.argv.slice(2)).scriptName('bench:infer')).strict().help().parseAsync()) as unknown as BenchArgs;
  process.exitCode = await benchCommand(args);
} catch (error) {
  process.stderr.write(`bench:infer: ${isUserError(error) ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`);
  process.exitCode = isUserError(error) ? 1 : 70;
}
