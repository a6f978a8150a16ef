import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS, UserError, type PreprocessSpec } from '../core/index.ts';
import { decodeJpegFast } from './jpeg-fast.ts';
import { sniffRasterFormat } from './sniff.ts';

// Decoding in Node: sharp (libvips) turns any common photo file into 8-bit sRGB pixels, which the
// core's resize then maps onto the model's input (src/browser/decode.ts is the canvas twin).
// Small plain colour JPEGs, the catalogue photo, take a shorter way to the same bytes
// (jpeg-fast.ts): libjpeg-turbo in wasm on the calling thread.

/** A per-file failure: names the file and the reason, and never aborts a batch. */
export class ImageError extends UserError {
  override name = 'ImageError';
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly code: 'unreadable' | 'empty' | 'undecodable' | 'unsupported' | 'too-large' = 'undecodable',
  ) {
    super(`${file}: ${reason}`);
  }
}

export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

export interface DecodeOptions {
  /** Largest width x height accepted; guards against decompression bombs. */
  maxPixels?: number;
}

/**
 * The largest image file worth reading whole for a pixel limit: 8 bytes a pixel (16-bit RGBA
 * stored uncompressed) plus 16 MiB of metadata is more than any image within the limit needs.
 * Bigger files could only fail that limit, after sitting whole in memory once per decode in flight.
 */
export function maxFileBytes(maxPixels = DEFAULT_MAX_PIXELS): number {
  return maxPixels * 8 + 16 * 1024 * 1024;
}
// SVG is left out on purpose: rendering it can fetch external resources and it is no photo.
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif', 'jp2']);

/**
 * SVG is XML text that librsvg would parse in full just to report its size; an upload or a file
 * named .jpg can be one. Recognising it from its first bytes (what libvips itself looks at: "<svg"
 * near the start) rejects it before any XML parser sees it.
 */
function looksLikeSvg(input: Buffer): boolean {
  const head = input.subarray(0, 1024).toString('latin1').replace(/^\xEF\xBB\xBF/, '').trimStart();
  return head.startsWith('<') && /<svg[\s>]/i.test(head);
}

/**
 * A failure reported by libvips, whose code and reason are read from its message. libvips keeps
 * ONE error buffer for the whole process, so when decodes fail at the same time (classifyFiles
 * runs several) their messages can swap or vanish ("Unknown error"); a swapped message could even
 * turn a bomb's 'too-large' into 'undecodable'. See decodeImage for the remedy.
 */
class LibvipsFailure extends ImageError {}

// Decodes share libvips; a recheck runs alone. Readers/writer bookkeeping for this module's
// decodes (other sharp users in the process are not covered).
let running = 0;
let recheck: Promise<void> | undefined;
const waitingForIdle: (() => void)[] = [];

async function shared<T>(run: () => Promise<T>): Promise<T> {
  while (recheck) await recheck;
  running++;
  try {
    return await run();
  } finally {
    running--;
    if (running === 0) waitingForIdle.splice(0).forEach((wake) => wake());
  }
}

async function alone<T>(run: () => Promise<T>): Promise<T> {
  while (recheck) await recheck;
  let done!: () => void;
  recheck = new Promise((resolve) => (done = resolve));
  try {
    while (running > 0) await new Promise<void>((resolve) => waitingForIdle.push(resolve));
    return await run();
  } finally {
    recheck = undefined;
    done();
  }
}

async function decodeOnce(input: Buffer, file: string, background: PreprocessSpec['background'], maxPixels: number): Promise<DecodedImage> {
  let format: string | undefined;
  try {
    const image = sharp(input, { limitInputPixels: maxPixels, failOn: 'error', animated: false });
    format = sniffRasterFormat(input) ?? (await image.metadata()).format;
    if (!format || !RASTER_FORMATS.has(format)) {
      throw new ImageError(file, `unsupported image format "${format ?? 'unknown'}" (expected one of ${[...RASTER_FORMATS].join(', ')})`, 'unsupported');
    }
    const { data, info } = await image
      .rotate()
      .flatten({ background: { r: background[0], g: background[1], b: background[2] } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageError(file, `decoded to ${info.channels} channels, expected 3`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
  } catch (error) {
    if (error instanceof ImageError) throw error;
    const message = (error as Error).message;
    if (/pixel limit/i.test(message)) {
      throw new LibvipsFailure(file, `image is larger than the ${maxPixels}-pixel limit`, 'too-large');
    }
    if (/unsupported image format/i.test(message)) throw new LibvipsFailure(file, 'not an image (unrecognised format)', 'unsupported');
    throw new LibvipsFailure(file, `cannot decode ${format ?? 'image'}: ${message.split('\n')[0]}`, 'undecodable');
  }
}

/**
 * Decodes any common photo to 8-bit sRGB: honours EXIF orientation, flattens transparency onto
 * the spec's background, converts CMYK/greyscale/palette/16-bit to 3 x 8-bit channels.
 */
export async function decodeImage(input: Buffer, file: string, background: PreprocessSpec['background'], options: DecodeOptions = {}): Promise<DecodedImage> {
  const fast = decodeJpegFast(input, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  // Those pixels are the decoder's until its next decode; the caller gets its own.
  if (fast) return { data: fast.data.slice(), width: fast.width, height: fast.height, channels: 3 };
  return decodeWithSharp(input, file, background, options);
}

/** decodeImage without the JPEG short way: for callers that have just tried it (prepare.ts). */
export async function decodeWithSharp(input: Buffer, file: string, background: PreprocessSpec['background'], options: DecodeOptions = {}): Promise<DecodedImage> {
  if (input.length === 0) throw new ImageError(file, 'file is empty (0 bytes)', 'empty');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (looksLikeSvg(input)) throw new ImageError(file, 'SVG drawings are not supported: export it as PNG or JPEG', 'unsupported');
  try {
    return await shared(() => decodeOnce(input, file, background, maxPixels));
  } catch (error) {
    if (!(error instanceof LibvipsFailure)) throw error;
  }
  // The message of a failure seen alongside other decodes may belong to another file. Decoding
  // once more with no other decode running yields this file's own message (and so its code);
  // failures are rare in real folders, so the pause this costs is too.
  try {
    return await alone(() => decodeOnce(input, file, background, maxPixels));
  } catch (error) {
    if (error instanceof LibvipsFailure) throw new ImageError(file, error.reason, error.code);
    throw error;
  }
}
