// Test-time augmentation: each photo is also classified as a few altered views of its own model
// input, and the views' probabilities are averaged. The views are made from the already resized
// input (no second decode), become extra rows of the same batch (one runtime call), and are the
// same in Node and in browsers because they live here, below both shells.
//
// Views, in order: the input, its horizontal mirror, a centre zoom, and the zoom's mirror. The
// mirror comes first because footwear photos are left/right arbitrary (a shoe pointing left is as
// much a shoe as one pointing right); the zoom trims the catalogue's white margins. With 2 or 4
// views the set is closed under mirroring, so a photo and its mirror get the same probabilities.

export const TTA_MAX_VIEWS = 4;
/** The centre zoom keeps this share of the height and width (a 1.14x enlargement). */
export const TTA_ZOOM_KEEP = 0.875;

/** 'off' (1 view), 'mirror' (2 views) or a view count from 1 to TTA_MAX_VIEWS. */
export type TtaSetting = 'off' | 'mirror' | number;

export const TTA_EXPECTED = `off, mirror or a view count from 1 to ${TTA_MAX_VIEWS}`;

/** The views a setting runs; throws a RangeError for anything else. */
export function ttaViews(setting: TtaSetting): number {
  if (setting === 'off') return 1;
  if (setting === 'mirror') return 2;
  if (Number.isInteger(setting) && setting >= 1 && setting <= TTA_MAX_VIEWS) return setting;
  throw new RangeError(`tta should be ${TTA_EXPECTED}, got ${String(setting)}`);
}

/** The setting's one name, as outputs record it and --tta takes it: 'off', 'mirror', '3' or '4'. */
export function ttaName(setting: TtaSetting): string {
  const views = ttaViews(setting);
  return views === 1 ? 'off' : views === 2 ? 'mirror' : String(views);
}

/** A setting as a user typed it (a flag, a query), or undefined when it is none. */
export function parseTta(text: string): TtaSetting | undefined {
  const value = text.trim().toLowerCase();
  if (value === 'off' || value === 'mirror') return value;
  if (!/^\d+$/.test(value)) return undefined;
  const views = Number(value);
  return views >= 1 && views <= TTA_MAX_VIEWS ? views : undefined;
}

/** Where and how much each output column or row samples its source, for a centre zoom. */
interface Taps {
  lo: Int32Array;
  hi: Int32Array;
  /** The weights of `lo` and `hi`, summing to 1. */
  wLo: Float32Array;
  wHi: Float32Array;
}

/**
 * Bilinear taps for a centre zoom along one axis of `size` pixels. Output pixel i samples source
 * coordinate (i + 0.5) * keep + (1 - keep) * size / 2 - 0.5, which maps i and size-1-i to mirror
 * positions; the right half takes the left half's taps mirrored (pixels and weights swapped), so
 * the zoom of a mirrored input is the mirror of the zoom to the last bit, and the 4-view set of
 * a photo and of its mirror are the same rows.
 */
function zoomTaps(size: number): Taps {
  const taps = { lo: new Int32Array(size), hi: new Int32Array(size), wLo: new Float32Array(size), wHi: new Float32Array(size) };
  const offset = ((1 - TTA_ZOOM_KEEP) * size) / 2 - 0.5;
  for (let i = 0; i < Math.ceil(size / 2); i++) {
    const at = Math.min(Math.max((i + 0.5) * TTA_ZOOM_KEEP + offset, 0), size - 1);
    const lo = Math.floor(at);
    const hi = Math.min(lo + 1, size - 1);
    taps.lo[i] = lo;
    taps.hi[i] = hi;
    taps.wHi[i] = at - lo;
    taps.wLo[i] = 1 - (at - lo);
    const j = size - 1 - i;
    if (j === i) continue; // the middle of an odd size samples the middle: its own mirror
    taps.lo[j] = size - 1 - hi;
    taps.hi[j] = size - 1 - lo;
    taps.wLo[j] = taps.wHi[i];
    taps.wHi[j] = taps.wLo[i];
  }
  return taps;
}

function mirrorInto(source: Float32Array, from: number, out: Float32Array, to: number, height: number, width: number): void {
  const row = width * 3;
  for (let y = 0; y < height; y++) {
    const s = from + y * row;
    const o = to + y * row;
    for (let x = 0; x < width; x++) {
      const a = s + x * 3;
      const b = o + (width - 1 - x) * 3;
      out[b] = source[a];
      out[b + 1] = source[a + 1];
      out[b + 2] = source[a + 2];
    }
  }
}

function zoomInto(source: Float32Array, from: number, out: Float32Array, to: number, height: number, width: number, rows: Taps, cols: Taps): void {
  const row = width * 3;
  for (let y = 0; y < height; y++) {
    const top = from + rows.lo[y] * row;
    const bottom = from + rows.hi[y] * row;
    const ty = rows.wLo[y];
    const by = rows.wHi[y];
    const o = to + y * row;
    for (let x = 0; x < width; x++) {
      const left = cols.lo[x] * 3;
      const right = cols.hi[x] * 3;
      const lx = cols.wLo[x];
      const rx = cols.wHi[x];
      for (let c = 0; c < 3; c++) {
        const upper = source[top + left + c] * lx + source[top + right + c] * rx;
        const lower = source[bottom + left + c] * lx + source[bottom + right + c] * rx;
        out[o + x * 3 + c] = upper * ty + lower * by;
      }
    }
  }
}

/**
 * Makes the views of `count` HWC inputs laid end to end in `batch`, view by view: rows 0..count-1
 * of `out` are the inputs themselves, the next `count` their mirrors, and so on. `out` must hold
 * views x count inputs.
 */
export class TtaViews {
  readonly views: number;
  private readonly rows: Taps;
  private readonly cols: Taps;

  constructor(
    setting: TtaSetting,
    readonly height: number,
    readonly width: number,
  ) {
    this.views = ttaViews(setting);
    this.rows = zoomTaps(height);
    this.cols = zoomTaps(width);
  }

  expand(batch: Float32Array, count: number, out: Float32Array): void {
    const size = this.height * this.width * 3;
    const block = count * size;
    if (out.length < this.views * block) throw new RangeError(`${this.views} views of ${count} inputs need ${this.views * block} values, got ${out.length}`);
    out.set(batch.subarray(0, block), 0);
    for (let i = 0; i < count; i++) {
      const from = i * size;
      if (this.views >= 2) mirrorInto(batch, from, out, block + from, this.height, this.width);
      if (this.views >= 3) zoomInto(batch, from, out, 2 * block + from, this.height, this.width, this.rows, this.cols);
      if (this.views >= 4) mirrorInto(out, 2 * block + from, out, 3 * block + from, this.height, this.width);
    }
  }

  /** Per-photo mean of the views' probabilities (`views` x `count` rows of `classes`, view by view). */
  average(probs: Float32Array, count: number, classes: number): Float32Array {
    const mean = new Float32Array(count * classes);
    const block = count * classes;
    for (let i = 0; i < block; i++) {
      let sum = 0;
      for (let v = 0; v < this.views; v++) sum += probs[v * block + i];
      mean[i] = sum / this.views;
    }
    return mean;
  }
}
