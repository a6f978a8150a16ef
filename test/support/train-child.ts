// Runs train() with the options given as JSON in argv[2], as `footwear train` would in its own
// process; tests kill it part-way to interrupt a run the hard way.
import { train, type TrainOptions } from '../../src/train/index.ts';

await train(JSON.parse(process.argv[2]) as TrainOptions);
