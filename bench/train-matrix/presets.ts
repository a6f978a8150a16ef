import path from 'node:path';
import { FASHION, SHOES } from '../../fixtures/shared-data.ts';

/** One training run of the table: a dataset (all of a train folder or N photos a class of it) and flags. */
export interface Row {
  name: string;
  train: string;
  test: string;
  /** Photos per class, drawn at random (seeded) from `train`; undefined: all of it. */
  perClass?: number;
  flags: string[];
}

const shoes = { train: path.join(SHOES, 'train'), test: path.join(SHOES, 'test') };
const fashion = { train: path.join(FASHION, 'train'), test: path.join(FASHION, 'test') };

/**
 * The tables BENCHMARKS.md shows. `matrix` compares the head alone with fine-tuning from three
 * blocks, at two input sizes, with and without augmentation, on 600 catalogue photos a class (the
 * full 3,300 a class costs about 5x the time; its rows are the `full` preset).
 */
export const PRESETS: Record<string, Row[]> = {
  matrix: [
    { name: 'frozen head, 224', ...shoes, perClass: 600, flags: ['--augment', '1'] },
    { name: 'frozen head, 224, 4 views', ...shoes, perClass: 600, flags: ['--augment', '4'] },
    { name: 'frozen head, 160', ...shoes, perClass: 600, flags: ['--input-size', '160', '--augment', '1'] },
    { name: 'frozen head, 160, 4 views', ...shoes, perClass: 600, flags: ['--input-size', '160', '--augment', '4'] },
    { name: 'fine-tune block_14, 160', ...shoes, perClass: 600, flags: ['--input-size', '160', '--augment', '1', '--fine-tune', 'block_14'] },
    { name: 'fine-tune block_13, 160', ...shoes, perClass: 600, flags: ['--input-size', '160', '--augment', '1', '--fine-tune', 'block_13'] },
    { name: 'fine-tune block_13, 160, 4 views', ...shoes, perClass: 600, flags: ['--input-size', '160', '--augment', '4', '--fine-tune', 'block_13'] },
    { name: 'fine-tune block_11, 160', ...shoes, perClass: 600, flags: ['--input-size', '160', '--augment', '1', '--fine-tune', 'block_11'] },
    { name: 'fine-tune block_13, 224', ...shoes, perClass: 600, flags: ['--augment', '1', '--fine-tune', 'block_13'] },
  ],
  small: [
    { name: '25 a class, photos alone, batch 64', ...shoes, perClass: 25, flags: ['--augment', '1', '--batch-size', '64'] },
    { name: '25 a class, defaults (auto)', ...shoes, perClass: 25, flags: [] },
    { name: '70 a class, photos alone, batch 64', ...shoes, perClass: 70, flags: ['--augment', '1', '--batch-size', '64'] },
    { name: '70 a class, defaults (auto)', ...shoes, perClass: 70, flags: [] },
  ],
  fashion: [
    { name: 'Fashion-MNIST footwear, frozen head, 224', ...fashion, flags: [] },
    { name: 'Fashion-MNIST footwear, frozen head, 160', ...fashion, flags: ['--input-size', '160'] },
  ],
  full: [
    { name: 'catalogue, frozen head, 224 (default)', ...shoes, flags: [] },
    { name: 'catalogue, frozen head, 224, 2 views', ...shoes, flags: ['--augment', '2'] },
    { name: 'catalogue, fine-tune block_13, 160', ...shoes, flags: ['--input-size', '160', '--fine-tune', 'block_13'] },
  ],
};
