import { readJpegHeader, type JpegHeader } from './jpeg-header.ts';
import { decodeJpegRgb, type TurboHeader } from './jpeg-wasm.ts';

// The catalogue photo's short way to pixels: a small colour JPEG with nothing for sharp to do
// after libjpeg (no EXIF rotation, no ICC profile, no alpha, 8 bits, 3 channels) is decoded by
// libjpeg-turbo in WebAssembly on the calling thread, giving the bytes sharp gives (same libjpeg
// code; test/jpeg-fast.test.ts) for a fraction of the CPU. Measured on the 136x102 test photos
// (2 shared cores, CPU time, medians): sharp's decode 0.8 ms a photo, of which libjpeg's own work
// is 0.06 ms (native, SIMD) and the rest libvips' pipeline set-up and its hand-offs between the
// main thread, libuv's pool and libvips' workers; this path 0.17 ms, with no thread involved.
//
// Everything else goes to sharp, as before: other formats, CMYK/grey/RGB JPEGs, 12-bit,
// arithmetic, lossless or other subsamplings, EXIF orientations other than 1, embedded ICC
// profiles, files past the pixel limit (sharp reports them too-large), files the decoder fails or
// warns on (sharp then reports the file's own failure, or its pixels), and photos too big for
// this path to pay.

/**
 * Photos above this many pixels go to sharp, whose SIMD libjpeg outruns scalar wasm once its fixed
 * cost is shared by enough pixels: at 640x480 the two cost the same CPU (4.9 vs 5.3 ms baseline
 * 4:4:4, 7.7 vs 5.8 ms progressive), at 1024x768 sharp is ahead. This also bounds the wasm heap,
 * which never shrinks, to a few MB per thread.
 */
export const FAST_MAX_PIXELS = 512 * 512;
/** Files above this size go to sharp, so the wasm heap never holds more than this of input. */
export const FAST_MAX_BYTES = 1 << 20;

const BASELINE = 0xc0;
const PROGRESSIVE = 0xc2;
const TJCS_YCBCR = 1;

/** TurboJPEG's TJSAMP_* for the sampling factors of a 3-component frame, for the two this path takes. */
function subsampling({ components: [y, cb, cr] }: JpegHeader): number | undefined {
  if (cb.h !== 1 || cb.v !== 1 || cr.h !== 1 || cr.v !== 1) return undefined;
  if (y.h === 1 && y.v === 1) return 0; // 4:4:4
  if (y.h === 2 && y.v === 2) return 2; // 4:2:0
  return undefined;
}

function takes(header: JpegHeader, maxPixels: number): boolean {
  const pixels = header.width * header.height;
  return (
    (header.frame === BASELINE || header.frame === PROGRESSIVE) &&
    header.precision === 8 &&
    header.components.length === 3 &&
    subsampling(header) !== undefined &&
    header.orientation === 1 &&
    !header.icc &&
    pixels > 0 &&
    pixels <= FAST_MAX_PIXELS &&
    // Within the pixel limit; a limit sharp would refuse as a parameter (or read as "none": 0) is for sharp to handle.
    Number.isSafeInteger(maxPixels) &&
    pixels <= maxPixels
  );
}

let enabled = true;
let runs = 0;

export interface FastPixels {
  /** RGB, row-major; the decoder's memory, valid until the next decode on this thread. */
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Decodes `input` on this thread when it is a JPEG this path takes (see above), else undefined
 * and the caller decodes with sharp. The pixels must be used (resized, copied) before anything
 * else can decode on this thread.
 */
export function decodeJpegFast(input: Uint8Array, maxPixels: number): FastPixels | undefined {
  if (!enabled || input.length > FAST_MAX_BYTES) return undefined;
  const header = readJpegHeader(input);
  if (!header || !takes(header, maxPixels)) return undefined;
  // libjpeg reads the header again; go on only if it sees the frame our scan saw.
  const agrees = (seen: TurboHeader) =>
    seen.width === header.width && seen.height === header.height && seen.subsampling === subsampling(header) && seen.colorspace === TJCS_YCBCR;
  const data = decodeJpegRgb(input, agrees);
  if (!data) return undefined;
  runs++;
  return { data, width: header.width, height: header.height };
}

/** For tests and benches: switches the path off (sharp decodes every file) or back on. */
export function setJpegFastPath(on: boolean): void {
  enabled = on;
}

/** For tests: how many images this path has decoded on this thread, so a test can tell which path ran. */
export function jpegFastPathRuns(): number {
  return runs;
}
