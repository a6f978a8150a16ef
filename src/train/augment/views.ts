import { seededRandom } from '../../data/index.ts';
import { replaceBackground } from './background.ts';
import { jitterColour } from './colour.ts';
import type { InputImage } from './image.ts';
import { mirror } from './mirror.ts';
import { warpImage } from './warp.ts';

/**
 * The augmented views of one training photo. View 0 is the photo, view 1 its mirror, and every
 * further view a random recipe: a zoom (mostly in, a random crop; sometimes out), a small
 * rotation, a mirror half the time, colour jitter, and for a third of them a new background.
 * The recipe is drawn from the photo's name, the view and the run's seed, so a resumed or
 * repeated extraction draws the same views however the photos are batched.
 */
export function augmentedView(image: InputImage, view: number, key: { file: string; seed: number }): InputImage {
  if (view === 0) return image;
  if (view === 1) return mirror(image);
  const random = seededRandom(hashString(`${key.file}\u0000${view}\u0000${key.seed}`));
  const between = (lo: number, hi: number) => lo + (hi - lo) * random();
  const scale = random() < 0.8 ? between(1, 1.45) : between(0.8, 1);
  // The crop's centre may move as far as keeps the crop inside the frame.
  const slackX = Math.max(0, (1 - 1 / scale) / 2) * image.width;
  const slackY = Math.max(0, (1 - 1 / scale) / 2) * image.height;
  let out = warpImage(image, {
    scale,
    angle: between(-8, 8) * (Math.PI / 180),
    centreX: (image.width - 1) / 2 + between(-slackX, slackX),
    centreY: (image.height - 1) / 2 + between(-slackY, slackY),
    mirror: random() < 0.5,
  });
  if (random() < 1 / 3) {
    const tone = (): [number, number, number] => [between(0.25, 1), between(0.25, 1), between(0.25, 1)];
    out = replaceBackground(out, { from: tone(), to: tone(), angle: between(0, 2 * Math.PI), grain: between(0, 0.06), random });
  }
  return jitterColour(out, { brightness: between(0.8, 1.15), contrast: between(0.8, 1.25), saturation: between(0.6, 1.4) });
}

/** FNV-1a: a stable 32-bit seed from a string. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
