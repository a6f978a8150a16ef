import { code, f64, frame, i32, module, op, v128, type Code } from './emit.ts';

// The two resampling passes of ../resize.ts in WebAssembly SIMD, bit for bit the same as the JS
// passes. Wasm's f64 add and mul and its f32<->f64 conversions round to nearest as JS's do, so
// the JS operations in the JS order give the JS bits; SIMD only does two at once. No relaxed-simd
// and no fused multiply-add: either would change the rounding.
//
// Horizontal: each input row is first widened to doubles, once, as JS reads `src[p]` as a number;
// every tap then does `acc += value * w` on (r, g) and (b, 0) pairs, the double sums of the JS
// loop. The JS pass stores float32s; here the same rounding is demote-then-promote and the rows
// stay doubles, so the vertical pass, which reads each row two or more times, converts nothing.
// Vertical: two f64 pairs of a row at a time. Each tap is `fround(sum + row * w)` (add, demote,
// promote: exactly Math.fround), starting from 0 as JS does; the stored float32 is
// demote(sum * scale + shift), the JS expression rounded as a Float32Array store rounds.
//
// Loops step in whole groups and may read and write up to SLACK bytes past the end of a row; the
// caller leaves that much room after each buffer, and what spills into the next row is written
// over when that row's turn comes.

/** The tap tables of ../resize.ts, as far as the wasm loops need them. */
export interface TapTable {
  offset: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  stride: number;
}

export const SLACK = 32;

const { brIf, br, get, set, tee } = op;
const add = (local: number, step: Code): number[] => code(get(local), step, op.i32Add, set(local));
/** The table entry of output `o` (a byte offset into both the offset and count tables). */
const entry = (table: number, o: number): number[] => code(get(table), get(o), op.i32Add, op.i32Load());
const fround = code(op.f32x4DemoteF64x2Zero, op.f64x2PromoteLowF32x4);
/** Lanes 2 and 3 of an i32x4 moved down, for conversions that read lanes 0 and 1. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

function horizontalPass() {
  const { at: l, params, locals } = frame(
    // src: the band's first byte, `rows` rows of rowBytes; line: room for one row as doubles;
    // dst: the first output double. Table offsets count source bytes, counts count taps.
    { src: i32, rowBytes: i32, rows: i32, pixelBytes: i32, offsets: i32, counts: i32, weights: i32, strideBytes: i32, tableBytes: i32, line: i32, dst: i32 },
    { q: i32, d: i32, o: i32, wRow: i32, p: i32, t: i32, end: i32, wide: v128, w: v128, w1: v128, rg: v128, b: v128 },
  );
  /** acc + (the pair at p + offset) * w, left on the stack. */
  const tap = (acc: Code, p: Code, offset: number, load: (offset: number) => number[], w: number) => code(acc, p, load(offset), get(w), op.f64x2Mul, op.f64x2Add);
  const rg = (acc: Code, p: Code, w: number) => tap(acc, p, 0, op.v128Load, w);
  const b = (acc: Code, p: Code, w: number) => tap(acc, p, 16, op.v128Load64Zero, w);
  const next = code(get(l.p), get(l.pixelBytes), op.i32Add);
  // Upscaling gives most outputs two taps: straight-line code, no tap loop. JS's order is kept,
  // ((0 + first) + second), though addition's commutativity would allow others.
  const twoTaps = code(
    get(l.wRow), op.v128Load64Splat(0), set(l.w),
    get(l.wRow), op.v128Load64Splat(8), set(l.w1),
    rg(rg(op.v128Zero, get(l.p), l.w), next, l.w1), set(l.rg),
    b(b(op.v128Zero, get(l.p), l.w), next, l.w1), set(l.b),
  );
  const anyTaps = code(
    get(l.wRow), tee(l.t), entry(l.counts, l.o), op.i32Const(3), op.i32Shl, op.i32Add, set(l.end),
    op.v128Zero, set(l.rg),
    op.v128Zero, set(l.b),
    op.block,
    op.loop,
    get(l.t), get(l.end), op.i32GeU, brIf(1),
    get(l.t), op.v128Load64Splat(), set(l.w),
    rg(get(l.rg), get(l.p), l.w), set(l.rg),
    b(get(l.b), get(l.p), l.w), set(l.b),
    add(l.t, op.i32Const(8)),
    add(l.p, get(l.pixelBytes)),
    br(0),
    op.end,
    op.end,
  );
  const body = code(
    op.loop, // each input row
    get(l.src), set(l.q),
    get(l.line), set(l.d),
    op.loop, // widen four bytes at a time
    get(l.q), op.v128Load32Zero(), op.i16x8ExtendLowI8x16U, op.i32x4ExtendLowI16x8U, set(l.wide),
    get(l.d), get(l.wide), op.f64x2ConvertLowI32x4U, op.v128Store(),
    get(l.d), get(l.wide), get(l.wide), op.i8x16Shuffle(HIGH_HALF), op.f64x2ConvertLowI32x4U, op.v128Store(16),
    add(l.d, op.i32Const(32)),
    get(l.q), op.i32Const(4), op.i32Add, tee(l.q), get(l.src), get(l.rowBytes), op.i32Add, op.i32LtU, brIf(0),
    op.end,
    op.i32Const(0), set(l.o),
    get(l.weights), set(l.wRow),
    op.loop, // each output pixel
    get(l.line), entry(l.offsets, l.o), op.i32Const(3), op.i32Shl, op.i32Add, set(l.p),
    entry(l.counts, l.o), op.i32Const(2), op.i32Eq,
    op.if,
    twoTaps,
    op.else,
    anyTaps,
    op.end,
    // r, g, then b and a zero that the next pixel's r overwrites.
    get(l.dst), get(l.rg), fround, op.v128Store(),
    get(l.dst), get(l.b), fround, op.v128Store(16),
    add(l.dst, op.i32Const(24)),
    add(l.wRow, get(l.strideBytes)),
    get(l.o), op.i32Const(4), op.i32Add, tee(l.o), get(l.tableBytes), op.i32Ne, brIf(0),
    op.end,
    add(l.src, get(l.rowBytes)),
    get(l.rows), op.i32Const(-1), op.i32Add, tee(l.rows), brIf(0),
    op.end,
  );
  return { params, locals, body };
}

function verticalPass() {
  const { at: l, params, locals } = frame(
    // rows: the horizontal pass's doubles, inRowBytes per row; dst: float32 rows of outRowBytes,
    // packed. Table offsets count doubles, counts count taps.
    { rows: i32, inRowBytes: i32, outRowBytes: i32, offsets: i32, counts: i32, weights: i32, strideBytes: i32, tableBytes: i32, dst: i32, scale: f64, shift: f64 },
    { o: i32, wRow: i32, end: i32, i: i32, j: i32, k: i32, t: i32, w0: v128, w1: v128, s0: v128, s1: v128, scales: v128, shifts: v128 },
  );
  /** fround(sum + the pair at k + offset, times w), left on the stack. */
  const tap = (sum: Code, k: Code, offset: number, w: number) => code(sum, k, op.v128Load(offset), get(w), op.f64x2Mul, op.f64x2Add, fround);
  /** Two floats, `sum * scale + shift`, at dst + i + offset. */
  const store = (sum: Code, offset: number) =>
    code(get(l.dst), get(l.i), op.i32Add, sum, get(l.scales), op.f64x2Mul, get(l.shifts), op.f64x2Add, op.f32x4DemoteF64x2Zero, op.v128Store64Lane0(offset));
  const nextGroup = code(add(l.j, op.i32Const(32)), get(l.i), op.i32Const(16), op.i32Add, tee(l.i), get(l.outRowBytes), op.i32LtU, brIf(0));
  const below = code(get(l.j), get(l.inRowBytes), op.i32Add);
  // Upscaling gives every row two taps: their weights stay in registers and the tap loop goes.
  const twoTaps = code(
    get(l.wRow), op.v128Load64Splat(0), set(l.w0),
    get(l.wRow), op.v128Load64Splat(8), set(l.w1),
    op.loop,
    store(tap(tap(op.v128Zero, get(l.j), 0, l.w0), below, 0, l.w1), 0),
    store(tap(tap(op.v128Zero, get(l.j), 16, l.w0), below, 16, l.w1), 8),
    nextGroup,
    op.end,
  );
  const anyTaps = code(
    get(l.wRow), entry(l.counts, l.o), op.i32Const(3), op.i32Shl, op.i32Add, set(l.end),
    op.loop,
    op.v128Zero, set(l.s0),
    op.v128Zero, set(l.s1),
    get(l.wRow), set(l.t),
    get(l.j), set(l.k),
    op.block,
    op.loop,
    get(l.t), get(l.end), op.i32GeU, brIf(1),
    get(l.t), op.v128Load64Splat(), set(l.w0),
    tap(get(l.s0), get(l.k), 0, l.w0), set(l.s0),
    tap(get(l.s1), get(l.k), 16, l.w0), set(l.s1),
    add(l.t, op.i32Const(8)),
    add(l.k, get(l.inRowBytes)),
    br(0),
    op.end,
    op.end,
    store(get(l.s0), 0),
    store(get(l.s1), 8),
    nextGroup,
    op.end,
  );
  const body = code(
    get(l.scale), op.f64x2Splat, set(l.scales),
    get(l.shift), op.f64x2Splat, set(l.shifts),
    op.i32Const(0), set(l.o),
    get(l.weights), set(l.wRow),
    op.loop, // each output row, four floats at a time
    get(l.rows), entry(l.offsets, l.o), op.i32Const(3), op.i32Shl, op.i32Add, set(l.j),
    op.i32Const(0), set(l.i),
    entry(l.counts, l.o), op.i32Const(2), op.i32Eq,
    op.if,
    twoTaps,
    op.else,
    anyTaps,
    op.end,
    add(l.dst, get(l.outRowBytes)),
    add(l.wRow, get(l.strideBytes)),
    get(l.o), op.i32Const(4), op.i32Add, tee(l.o), get(l.tableBytes), op.i32Ne, brIf(0),
    op.end,
  );
  return { params, locals, body };
}

export function resampleModule(): Uint8Array<ArrayBuffer> {
  return module({ horizontal: horizontalPass(), vertical: verticalPass() });
}
