import { resampleModule, SLACK, type TapTable } from './passes.ts';

// Runs the wasm passes for ../resize.ts: lays out one memory, copies the tap tables and the
// source bytes in, and the result out to the caller's array. Anything the wasm path cannot take
// (no WebAssembly, no SIMD, a CSP without 'wasm-unsafe-eval', memory that cannot grow) returns
// false and the caller runs its JS passes, which give the same bits.

type Horizontal = (src: number, rowBytes: number, rows: number, pixelBytes: number, offsets: number, counts: number, weights: number, strideBytes: number, tableBytes: number, line: number, dst: number) => void;
type Vertical = (rows: number, inRowBytes: number, outRowBytes: number, offsets: number, counts: number, weights: number, strideBytes: number, tableBytes: number, dst: number, scale: number, shift: number) => void;

interface Engine {
  memory: WebAssembly.Memory;
  horizontal: Horizontal;
  vertical: Vertical;
  /** Views of memory.buffer, remade when growing replaces the buffer. */
  buffer: ArrayBuffer;
  u8: Uint8Array;
  i32: Int32Array;
  f32: Float32Array;
  f64: Float64Array;
  /**
   * The tap tables now in memory; a folder of same-sized photos copies them once. (Copying them
   * every call measured 0.6 us at 136x102 -> 224x168 and 4 us for 4000x3000: small either way.)
   */
  h?: TapTable;
  v?: TapTable;
}

const PAGE = 65536;
/** Source rows are copied in and resampled in bands of about this size, so a photo's bytes never need wasm memory of their size. */
const BAND_BYTES = 1 << 20;
/** Wasm memory never shrinks, so a job needing more than this gets a memory of its own that the GC can take back. */
const KEEP_BYTES = 16 << 20;
/** Pointers are i32; stay clear of the sign bit rather than reason about it. */
const MAX_BYTES = 2 ** 31 - PAGE;

let compiled: WebAssembly.Module | null | undefined;
let kept: Engine | undefined;
let enabled = true;
let runs = 0;

function compile(): WebAssembly.Module | null {
  if (compiled === undefined) {
    compiled = null;
    try {
      // Small enough (see test/resize-wasm.test.ts) for the synchronous compile a browser main thread allows.
      const bytes = resampleModule();
      if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
    } catch {
      // Leaves compiled null: the JS passes serve every call.
    }
  }
  return compiled;
}

function instantiate(wasm: WebAssembly.Module, bytes: number): Engine {
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
  const exports = new WebAssembly.Instance(wasm, { env: { memory } }).exports;
  const engine = { memory, horizontal: exports.horizontal as Horizontal, vertical: exports.vertical as Vertical } as Engine;
  return refresh(engine);
}

function refresh(engine: Engine): Engine {
  const buffer = engine.memory.buffer;
  if (engine.buffer !== buffer) {
    engine.buffer = buffer;
    engine.u8 = new Uint8Array(buffer);
    engine.i32 = new Int32Array(buffer);
    engine.f32 = new Float32Array(buffer);
    engine.f64 = new Float64Array(buffer);
  }
  return engine;
}

/** The engine for a job of `bytes`: the kept one, grown if needed, or a one-off for big jobs. */
function engineFor(wasm: WebAssembly.Module, bytes: number): Engine {
  if (bytes > KEEP_BYTES) return instantiate(wasm, bytes);
  if (!kept) kept = instantiate(wasm, bytes);
  const short = bytes - kept.memory.buffer.byteLength;
  if (short > 0) kept.memory.grow(Math.ceil(short / PAGE));
  return refresh(kept);
}

function copyTaps(engine: Engine, taps: TapTable, offsets: number, counts: number, weights: number): void {
  engine.i32.set(taps.offset, offsets >> 2);
  engine.i32.set(taps.count, counts >> 2);
  engine.f64.set(taps.weights, weights >> 3);
}

/**
 * Resamples RGB or RGBA bytes as ../resize.ts's horizontal and vertical passes do, writing row y
 * at `at + y * outStride` of `out`. Returns false, having written nothing, where the wasm path
 * does not apply; the caller then runs the JS passes.
 */
export function resampleBytes(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  h: TapTable,
  v: TapTable,
  outW: number,
  outH: number,
  out: Float32Array,
  at: number,
  outStride: number,
  scale: number,
  shift: number,
): boolean {
  // The wasm loops assume at least one of everything and a full source; odd inputs keep the JS behaviour.
  if (!enabled || (channels !== 3 && channels !== 4) || width < 1 || height < 1 || outW < 1 || outH < 1 || src.length < width * height * channels) return false;
  const wasm = compile();
  if (!wasm) return false;

  const rowBytes = width * channels;
  const doubleRowBytes = outW * 3 * 8;
  const floatRowBytes = outW * 3 * 4;
  const bandRows = Math.max(1, Math.min(height, Math.floor(BAND_BYTES / rowBytes)));
  let size = 0;
  const take = (bytes: number): number => {
    const start = size;
    size += Math.ceil(bytes / 16) * 16;
    return start;
  };
  // Tap tables first, so the same tables land at the same place and need no copy next time.
  const hOffsets = take(outW * 4);
  const hCounts = take(outW * 4);
  const hWeights = take(h.weights.length * 8);
  const vOffsets = take(outH * 4);
  const vCounts = take(outH * 4);
  const vWeights = take(v.weights.length * 8);
  const rows = take(height * doubleRowBytes + SLACK);
  const dst = take(outH * floatRowBytes + SLACK);
  const band = take(bandRows * rowBytes + SLACK);
  const line = take(rowBytes * 8 + SLACK);
  if (size > MAX_BYTES) return false;

  let engine: Engine;
  try {
    engine = engineFor(wasm, size);
  } catch {
    // Out of memory for wasm; the JS passes may still manage with ordinary arrays.
    return false;
  }
  if (engine.h !== h || engine.v !== v) {
    copyTaps(engine, h, hOffsets, hCounts, hWeights);
    copyTaps(engine, v, vOffsets, vCounts, vWeights);
    engine.h = h;
    engine.v = v;
  }

  for (let y = 0; y < height; y += bandRows) {
    const n = Math.min(bandRows, height - y);
    engine.u8.set(src.subarray(y * rowBytes, (y + n) * rowBytes), band);
    engine.horizontal(band, rowBytes, n, channels * 8, hOffsets, hCounts, hWeights, h.stride * 8, outW * 4, line, rows + y * doubleRowBytes);
  }
  engine.vertical(rows, doubleRowBytes, floatRowBytes, vOffsets, vCounts, vWeights, v.stride * 8, outH * 4, dst, scale, shift);

  const rowLength = outW * 3;
  const first = dst >> 2;
  if (outStride === rowLength) out.set(engine.f32.subarray(first, first + outH * rowLength), at);
  else for (let y = 0; y < outH; y++) out.set(engine.f32.subarray(first + y * rowLength, first + (y + 1) * rowLength), at + y * outStride);
  runs++;
  return true;
}

/** For tests: switches the wasm path off (every resize runs the JS passes) or back on. */
export function setWasmResampling(on: boolean): void {
  enabled = on;
}

/** For tests: how many resizes the wasm path has done, so a comparison cannot pass without it. */
export function wasmResampleRuns(): number {
  return runs;
}
