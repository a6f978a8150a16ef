import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// libjpeg-turbo compiled to WebAssembly, from the npm package @cwasm/jpeg-turbo (which ships the
// .wasm in its tarball; nothing is fetched). Its JS wrapper is not used: it decodes to RGBA in a
// fresh array per call and cannot recover from a libjpeg error. TurboJPEG's own functions are
// called here instead, decoding to RGB in buffers kept between calls, on the calling thread.
//
// It is the same libjpeg code as the mozjpeg inside sharp's libvips (the same ISLOW integer IDCT,
// fancy upsampling and YCbCr tables; SIMD there gives the same bits as plain C here), so the bytes
// are the same: test/jpeg-fast.test.ts compares them with sharp's on real photos.
//
// Errors: the module's setjmp returns 0 and its longjmp is ours, which throws; libjpeg's error
// exit then unwinds out of the wasm, leaving the decoder's state and heap half-way. So any throw
// discards the instance, and the next call starts a fresh one (memory and all). Warnings (a
// truncated file, corrupt data) do not throw: tjDecompress2 finishes and returns -1.

/** TurboJPEG's pixel format TJPF_RGB. */
const TJPF_RGB = 0;
/** No flags: ISLOW DCT and fancy upsampling, libjpeg's defaults and so libvips'. */
const FLAGS = 0;

/** What the header says, before any pixel is decoded (tjDecompressHeader3). */
export interface TurboHeader {
  width: number;
  height: number;
  /** TJSAMP_*: 0 4:4:4, 1 4:2:2, 2 4:2:0, 3 grey, 4 4:4:0, 5 4:1:1. */
  subsampling: number;
  /** TJCS_*: 0 RGB, 1 YCbCr, 2 grey, 3 CMYK, 4 YCCK. */
  colorspace: number;
}

interface TurboJpeg {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDecompressHeader3(handle: number, jpeg: number, size: number, width: number, height: number, subsampling: number, colorspace: number): number;
  tjDecompress2(handle: number, jpeg: number, size: number, dst: number, width: number, pitch: number, height: number, format: number, flags: number): number;
}

/** A buffer in wasm memory, reused while big enough. */
interface Block {
  pointer: number;
  size: number;
}

interface Decoder {
  turbo: TurboJpeg;
  handle: number;
  /** Four int32s that tjDecompressHeader3 writes. */
  header: number;
  input: Block;
  output: Block;
}

/** libjpeg's error exit, reached through our longjmp. */
class JpegLongjmp extends Error {}

let compiled: WebAssembly.Module | null | undefined;
let decoder: Decoder | undefined;

function compile(): WebAssembly.Module | null {
  if (compiled === undefined) {
    compiled = null;
    try {
      const file = createRequire(import.meta.url).resolve('@cwasm/jpeg-turbo/jpeg-turbo.wasm');
      compiled = new WebAssembly.Module(readFileSync(file));
    } catch {
      // Not installed, or no WebAssembly here: sharp decodes every file, as it always could.
    }
  }
  return compiled;
}

function refuse(): never {
  throw new JpegLongjmp('libjpeg called the C library where it should not');
}

function start(wasm: WebAssembly.Module): Decoder | undefined {
  const imports = {
    env: {
      setjmp: () => 0,
      longjmp: () => {
        throw new JpegLongjmp('libjpeg error');
      },
    },
    // The C library's system calls: only an error or a debug print would reach these.
    wasi_snapshot_preview1: { environ_sizes_get: () => 0, environ_get: refuse, proc_exit: refuse, fd_close: refuse, fd_seek: refuse, fd_write: refuse },
  };
  const turbo = new WebAssembly.Instance(wasm, imports).exports as unknown as TurboJpeg;
  const handle = turbo.tjInitDecompress();
  const header = turbo.malloc(16);
  if (handle === 0 || header === 0) return undefined;
  return { turbo, handle, header, input: { pointer: 0, size: 0 }, output: { pointer: 0, size: 0 } };
}

/** `block` with room for `size` bytes, or false when the wasm heap cannot give it. */
function reserve(turbo: TurboJpeg, block: Block, size: number): boolean {
  if (block.size >= size) return true;
  if (block.pointer) turbo.free(block.pointer);
  block.pointer = turbo.malloc(size);
  block.size = block.pointer ? size : 0;
  return block.pointer !== 0;
}

function decodeWith(d: Decoder, jpeg: Uint8Array, accept: (header: TurboHeader) => boolean): Uint8Array | undefined {
  const { turbo, handle, header, input, output } = d;
  if (!reserve(turbo, input, jpeg.length)) return undefined;
  new Uint8Array(turbo.memory.buffer, input.pointer, jpeg.length).set(jpeg);
  if (turbo.tjDecompressHeader3(handle, input.pointer, jpeg.length, header, header + 4, header + 8, header + 12) !== 0) return undefined;
  const [width, height, subsampling, colorspace] = new Int32Array(turbo.memory.buffer, header, 4);
  if (!accept({ width, height, subsampling, colorspace })) return undefined;
  const size = width * height * 3;
  if (!reserve(turbo, output, size)) return undefined;
  if (turbo.tjDecompress2(handle, input.pointer, jpeg.length, output.pointer, width, width * 3, height, TJPF_RGB, FLAGS) !== 0) return undefined;
  // Made after decoding: the heap may have grown, which replaces memory.buffer.
  return new Uint8Array(turbo.memory.buffer, output.pointer, size);
}

/**
 * Decodes `jpeg` to RGB bytes if `accept` agrees with its header, on this thread. The result is
 * a view of the decoder's memory, valid until the next call: use it before anything else can
 * decode. Undefined where the decoder is unavailable, declines, or meets an error or a warning;
 * the caller then decodes with sharp, which gives the file's own answer (pixels or failure).
 */
export function decodeJpegRgb(jpeg: Uint8Array, accept: (header: TurboHeader) => boolean): Uint8Array | undefined {
  const wasm = compile();
  if (!wasm) return undefined;
  try {
    decoder ??= start(wasm);
    return decoder && decodeWith(decoder, jpeg, accept);
  } catch (error) {
    decoder = undefined;
    // libjpeg's error exit, a refused system call or a trap: sharp will say what is wrong.
    if (error instanceof JpegLongjmp || error instanceof WebAssembly.RuntimeError) return undefined;
    throw error;
  }
}
