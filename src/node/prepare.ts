import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { DEFAULT_MAX_PIXELS, resizeToInput, type PredictionFailure, type PreprocessSpec } from '../core/index.ts';
import { decodeImage, decodeWithSharp, ImageError, maxFileBytes, type DecodedImage, type DecodeOptions } from './decode.ts';
import { decodeJpegFast } from './jpeg-fast.ts';

// Turns one file or upload into a model input, or into a failure that names the reason. Never
// throws: one bad photo must not stop a folder of good ones.

export type Prepared = { file: string; input: Float32Array } | PredictionFailure;

const FS_REASONS: Record<string, string> = {
  ENOENT: 'file not found',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ELOOP: 'too many symbolic links',
  ERR_FS_FILE_TOO_LARGE: 'file is too large to read',
};

function readFailure(file: string, error: unknown): PredictionFailure {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const reason = FS_REASONS[code] ?? `cannot read file (${code || (error as Error).message})`;
  return { file, error: { code: 'unreadable', message: reason } };
}

/** Where to write the model input: a slot of a batch buffer, so no per-photo array is made. */
export interface InputSlot {
  out: Float32Array;
  offset: number;
}

/** An upload decoded to RGB pixels, ready to be written into a model input. */
export interface DecodedInput {
  file: string;
  pixels: DecodedImage;
}

/** Decodes an upload; a bad image becomes a failure naming why. */
export function decodeInput(image: Uint8Array, file: string, spec: PreprocessSpec, maxPixels?: number): Promise<DecodedInput | PredictionFailure> {
  return decodeWith(decodeImage, image, file, spec, maxPixels);
}

async function decodeWith(decode: typeof decodeImage, image: Uint8Array, file: string, spec: PreprocessSpec, maxPixels?: number): Promise<DecodedInput | PredictionFailure> {
  // sharp wants a Buffer; wrapping shares the memory instead of copying the upload.
  const buffer = Buffer.isBuffer(image) ? image : Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  try {
    return { file, pixels: await decode(buffer, file, spec.background, maxPixels === undefined ? {} : { maxPixels }) };
  } catch (error) {
    if (error instanceof ImageError) return { file, error: { code: error.code, message: error.reason } };
    return { file, error: { code: 'undecodable', message: (error as Error).message.split('\n')[0] } };
  }
}

/** Writes a decoded image as a model input into `slot`, through the core's one resize entry point. */
export function writeInput({ pixels }: DecodedInput, spec: PreprocessSpec, slot: InputSlot): Float32Array {
  resizeToInput(pixels.data, pixels.width, pixels.height, 3, spec, slot.out, slot.offset);
  return slot.out.subarray(slot.offset, slot.offset + spec.width * spec.height * 3);
}

export async function prepareImage(image: Uint8Array, file: string, spec: PreprocessSpec, maxPixels?: number, slot?: InputSlot): Promise<Prepared> {
  // A catalogue JPEG is decoded right here and resized straight from the decoder's memory, before
  // this thread can start another decode that would write over it; any other file goes to sharp.
  const fast = decodeJpegFast(image, maxPixels ?? DEFAULT_MAX_PIXELS);
  const decoded = fast ? { file, pixels: { ...fast, channels: 3 as const } } : await decodeWith(decodeWithSharp, image, file, spec, maxPixels);
  if ('error' in decoded) return decoded;
  try {
    return { file, input: writeInput(decoded, spec, slot ?? { out: new Float32Array(spec.width * spec.height * 3), offset: 0 }) };
  } catch (error) {
    return { file, error: { code: 'undecodable', message: (error as Error).message.split('\n')[0] } };
  }
}

/**
 * How prepareFile reads: 'async' through libuv's pool (right for the main thread), 'sync' on the
 * calling thread, for worker threads, which may block and so save four trips through a pool
 * that sharp's decodes also queue on.
 */
export type ReadMode = 'async' | 'sync';

export async function prepareFile(file: string, spec: PreprocessSpec, maxPixels?: number, slot?: InputSlot, read: ReadMode = 'async'): Promise<Prepared> {
  let bytes: Buffer;
  try {
    // Look before reading: a FIFO named x.jpg would block a thread-pool thread forever, a link
    // to /dev/zero would read until memory runs out, and a huge file would sit whole in memory
    // only to fail the pixel limit.
    const info: Stats = read === 'sync' ? statSync(file) : await stat(file);
    if (info.isDirectory()) return readFailure(file, { code: 'EISDIR' });
    if (!info.isFile()) return { file, error: { code: 'unreadable', message: 'not a regular file (a FIFO, socket or device), so it is not read' } };
    const limit = maxFileBytes(maxPixels);
    if (info.size > limit) {
      return { file, error: { code: 'too-large', message: `file is ${info.size} bytes, more than the ${limit} an image within the pixel limit can take` } };
    }
    bytes = read === 'sync' ? readFileSync(file) : await readFile(file);
  } catch (error) {
    return readFailure(file, error);
  }
  return prepareImage(bytes, file, spec, maxPixels, slot);
}

/**
 * Decodes and preprocesses one image into a model input (HWC floats) per the spec; throws an
 * ImageError naming the file when it cannot (training and conversion want that, not a failure row).
 */
export async function imageToInput(input: Buffer, file: string, spec: PreprocessSpec, options: DecodeOptions = {}): Promise<Float32Array> {
  // As in prepareImage: the short way's pixels are resized before anything else can decode.
  const decoded = decodeJpegFast(input, options.maxPixels ?? DEFAULT_MAX_PIXELS) ?? (await decodeWithSharp(input, file, spec.background, options));
  return resizeToInput(decoded.data, decoded.width, decoded.height, 3, spec);
}
