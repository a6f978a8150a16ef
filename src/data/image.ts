import sharp from 'sharp';
import { resizeRgb, toInputTensor, type PreprocessSpec } from '../spec/index.ts';

/** A per-file failure: names the file and the reason, and never aborts a batch. */
export class ImageError extends Error {
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

export const DEFAULT_MAX_PIXELS = 50_000_000;
// SVG is left out on purpose: rendering it can fetch external resources and it is no photo.
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif', 'jp2']);

/**
 * Decodes any common photo to 8-bit sRGB: honours EXIF orientation, flattens transparency onto
 * the spec's background, converts CMYK/greyscale/palette/16-bit to 3 x 8-bit channels.
 */
export async function decodeImage(input: Buffer, file: string, background: PreprocessSpec['background'], options: DecodeOptions = {}): Promise<DecodedImage> {
  if (input.length === 0) throw new ImageError(file, 'file is empty (0 bytes)', 'empty');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  let format: string | undefined;
  try {
    const image = sharp(input, { limitInputPixels: maxPixels, failOn: 'error', animated: false });
    const meta = await image.metadata();
    format = meta.format;
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
      throw new ImageError(file, `image is larger than the ${maxPixels}-pixel limit`, 'too-large');
    }
    if (/unsupported image format/i.test(message)) throw new ImageError(file, 'not an image (unrecognised format)', 'unsupported');
    throw new ImageError(file, `cannot decode ${format ?? 'image'}: ${message.split('\n')[0]}`, 'undecodable');
  }
}

/** Decodes and preprocesses one image into a model input (HWC floats) per the spec. */
export async function imageToInput(input: Buffer, file: string, spec: PreprocessSpec, options: DecodeOptions = {}): Promise<Float32Array> {
  const decoded = await decodeImage(input, file, spec.background, options);
  return toInputTensor(resizeRgb(decoded.data, decoded.width, decoded.height, 3, spec), spec);
}
