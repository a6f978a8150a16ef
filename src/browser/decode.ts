/// <reference lib="dom" />
import { DEFAULT_MAX_PIXELS, UserError, type PreprocessSpec } from '../core/index.ts';

// Decodes at natural size, so that the core's resize (src/core/resize.ts) sees the same pixels
// as in Node, where sharp decodes, applies EXIF orientation and flattens alpha onto the background.
// Letting the canvas scale would use the browser's resampler and break parity with Node.

export type WebImage = Blob | ImageBitmap | HTMLImageElement;

/** The same codes as Node's ImageError, so front ends can treat failures alike. */
export type WebImageErrorCode = 'empty' | 'undecodable' | 'too-large';

export class WebImageError extends UserError {
  override name = 'WebImageError';
  constructor(
    readonly code: WebImageErrorCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface DecodedRgba {
  /** 8-bit RGBA, row-major; alpha is opaque after flattening. */
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function context(width: number, height: number): Canvas2D {
  const options: CanvasRenderingContext2DSettings = { willReadFrequently: true, colorSpace: 'srgb' };
  // OffscreenCanvas keeps the work off the DOM and also works in a worker.
  let ctx: Canvas2D | null;
  if (typeof OffscreenCanvas !== 'undefined') ctx = new OffscreenCanvas(width, height).getContext('2d', options);
  else {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    ctx = canvas.getContext('2d', options);
  }
  if (!ctx) throw new WebImageError('undecodable', 'this browser cannot create a 2D canvas to read pixels');
  return ctx;
}

async function toSource(image: WebImage): Promise<{ source: CanvasImageSource; width: number; height: number; close?: () => void }> {
  if (typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap) return { source: image, width: image.width, height: image.height };
  if (typeof HTMLImageElement !== 'undefined' && image instanceof HTMLImageElement) {
    try {
      if (!image.complete || image.naturalWidth === 0) await image.decode();
    } catch {
      throw new WebImageError('undecodable', 'the image element failed to load or decode');
    }
    // naturalWidth/Height and drawImage both follow EXIF orientation (CSS image-orientation default).
    return { source: image, width: image.naturalWidth, height: image.naturalHeight };
  }
  const blob = image as Blob;
  if (blob.size === 0) throw new WebImageError('empty', 'file is empty (0 bytes)');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'default' });
  } catch {
    const kind = blob.type ? `${blob.type} ` : '';
    throw new WebImageError('undecodable', `cannot decode this ${kind}file: not an image, or a format this browser cannot read`);
  }
  return { source: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() };
}

/**
 * Decodes an image to sRGB RGBA at its natural size, upright, with transparency flattened onto
 * `background` (the canvas is filled with it before drawing, as sharp's flatten does).
 */
export async function decodeToRgba(image: WebImage, background: PreprocessSpec['background'], maxPixels = DEFAULT_MAX_PIXELS): Promise<DecodedRgba> {
  const { source, width, height, close } = await toSource(image);
  try {
    if (width === 0 || height === 0) throw new WebImageError('undecodable', 'the image has no pixels');
    if (width * height > maxPixels) throw new WebImageError('too-large', `image is larger than the ${maxPixels}-pixel limit (${width}x${height})`);
    const ctx = context(width, height);
    ctx.fillStyle = `rgb(${background[0]}, ${background[1]}, ${background[2]})`;
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(source, 0, 0);
    return { data: ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data, width, height };
  } finally {
    close?.();
  }
}
