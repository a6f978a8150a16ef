import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../node/index.ts';
import type { Mistake } from '../eval/index.ts';
import { count, escapeHtml, percent } from './format.ts';

/** Shown at most: enough to see a pattern, few enough that the file stays a few hundred KB. */
export const MAX_GALLERY = 48;
const THUMB_WIDTH = 128;
const THUMB_HEIGHT = 96;

export interface Thumbnail {
  src: string;
  width: number;
  height: number;
}

/**
 * A small JPEG data URI of a photo as the model saw it before resizing: decoded by the same code
 * as training and inference (EXIF orientation applied, transparency flattened onto the model's
 * background), so the thumbnail shows what was classified, not what a viewer would make of the
 * file. Tiny images (28x28) are enlarged to be visible.
 */
export async function thumbnail(file: string, background: [number, number, number]): Promise<Thumbnail> {
  const decoded = await decodeImage(await readFile(file), file, background);
  const { data, info } = await sharp(decoded.data, { raw: { width: decoded.width, height: decoded.height, channels: 3 } })
    .resize(THUMB_WIDTH, THUMB_HEIGHT, { fit: 'inside', kernel: decoded.width < THUMB_WIDTH / 2 ? 'nearest' : 'lanczos3' })
    .jpeg({ quality: 72, mozjpeg: true })
    .toBuffer({ resolveWithObject: true });
  return { src: `data:image/jpeg;base64,${data.toString('base64')}`, width: info.width, height: info.height };
}

/** Most confident mistakes first: those are the ones a score threshold would not catch. */
export function orderMistakes(mistakes: readonly Mistake[]): Mistake[] {
  return [...mistakes].sort((a, b) => b.score - a.score || a.file.localeCompare(b.file));
}

/**
 * Thumbnails of misclassified photos with truth, prediction and score, at most `max` of them; the
 * rest are counted, and `listedIn` names where all are listed. A photo that cannot be
 * read back (moved since) keeps its card, with the reason instead of the picture.
 */
export async function mistakesGallery(mistakes: readonly Mistake[], options: { root: string; background: [number, number, number]; split: string; listedIn: string; max?: number }): Promise<string> {
  const max = options.max ?? MAX_GALLERY;
  if (mistakes.length === 0) return `<p>No ${escapeHtml(options.split)} photo was misclassified.</p>`;
  const shown = orderMistakes(mistakes).slice(0, max);
  const cards: string[] = [];
  for (const m of shown) {
    const name = path.relative(options.root, m.file) || m.file;
    const picture = await thumbnail(m.file, options.background).then(
      (t) => `<img src="${t.src}" width="${t.width}" height="${t.height}" alt="${escapeHtml(name)}">`,
      (error: Error) => `<div class="noimg" title="${escapeHtml(error.message)}">no preview</div>`,
    );
    cards.push(
      `<figure class="mistake" data-file="${escapeHtml(m.file)}" data-truth="${escapeHtml(m.truth)}" data-predicted="${escapeHtml(m.predicted)}" data-score="${m.score}">${picture}` +
        `<figcaption><span class="verdict">${escapeHtml(m.predicted)} ${percent(m.score)}</span><br>truth: ${escapeHtml(m.truth)}<span class="file" title="${escapeHtml(name)}">${escapeHtml(name)}</span></figcaption></figure>`,
    );
  }
  const hidden = mistakes.length - shown.length;
  const more = hidden > 0 ? `<p class="note">and <strong data-metric="mistakes-hidden">${count(hidden)}</strong> more not shown; ${escapeHtml(options.listedIn)} lists every one.</p>` : '';
  return `<p class="note">${count(mistakes.length)} misclassified, most confident first: the label shown is the prediction with its score.</p><div class="gallery" data-testid="gallery">${cards.join('')}</div>${more}`;
}
