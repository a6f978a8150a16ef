import { escapeHtml } from './format.ts';

// A minimal chart frame for inline SVG: linear scales, "nice" ticks, grid and axes. Enough for
// learning curves and a reliability diagram; anything fancier would be a chart library.
// Inline <svg> in HTML needs no xmlns, which keeps the file free of any http:// string.

export type Scale = (v: number) => number;

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** 1, 2 or 5 times a power of ten: the step a person would choose to label an axis. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** Ticks at multiples of `step` within [min, max], free of float residue (0.30000000000000004). */
export function ticks(min: number, max: number, step: number): number[] {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toFixed(decimals)));
  return out;
}

/** A domain widened to whole steps around the data, clamped to [floor, ceiling] when given. */
export function niceDomain(values: readonly number[], options: { count?: number; floor?: number; ceiling?: number } = {}): { domain: [number, number]; step: number } {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (hi - lo < 1e-9) {
    lo -= 0.5 * (Math.abs(lo) || 1);
    hi += 0.5 * (Math.abs(hi) || 1);
  }
  const step = niceStep(hi - lo, options.count ?? 5);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  if (options.floor !== undefined) lo = Math.max(lo, options.floor);
  if (options.ceiling !== undefined) hi = Math.min(hi, options.ceiling);
  return { domain: [lo, hi], step };
}

export interface Axis {
  domain: [number, number];
  ticks: number[];
  format: (v: number) => string;
  label: string;
}

export interface Frame {
  x: Scale;
  y: Scale;
  /** Plot area in SVG units. */
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const f = (v: number) => Number(v.toFixed(2));

/**
 * An SVG of `width` x `height` units with grid, axes and labels; `draw` adds the marks. The
 * description becomes the SVG's accessible name.
 */
export function chartSvg(options: { width?: number; height?: number; x: Axis; y: Axis; description: string; attributes?: string }, draw: (frame: Frame) => string): string {
  const width = options.width ?? 520;
  const height = options.height ?? 300;
  const left = 58;
  const right = width - 14;
  const top = 14;
  const bottom = height - 44;
  const x = linearScale(options.x.domain, [left, right]);
  const y = linearScale(options.y.domain, [bottom, top]);
  const grid = options.y.ticks.map((t) => `<line x1="${left}" x2="${right}" y1="${f(y(t))}" y2="${f(y(t))}"/>`).join('');
  const xTicks = options.x.ticks
    .map((t) => `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${bottom}" y2="${bottom + 5}"/><text x="${f(x(t))}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(options.x.format(t))}</text>`)
    .join('');
  const yTicks = options.y.ticks
    .map((t) => `<line x1="${left - 5}" x2="${left}" y1="${f(y(t))}" y2="${f(y(t))}"/><text x="${left - 8}" y="${f(y(t)) + 4}" text-anchor="end">${escapeHtml(options.y.format(t))}</text>`)
    .join('');
  return (
    `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(options.description)}"${options.attributes ? ` ${options.attributes}` : ''}>` +
    `<g class="grid">${grid}</g>` +
    draw({ x, y, left, right, top, bottom }) +
    `<g class="axis"><path d="M${left} ${top}V${bottom}H${right}" fill="none"/>${xTicks}${yTicks}</g>` +
    `<text x="${(left + right) / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(options.x.label)}</text>` +
    `<text transform="translate(14 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.y.label)}</text>` +
    `</svg>`
  );
}

/** A polyline through points with a dot and a hover title on each. */
export function lineSeries(frame: Frame, points: readonly { x: number; y: number; title: string }[], options: { color: string; dashed?: boolean; name: string }): string {
  if (points.length === 0) return '';
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${f(frame.x(p.x))} ${f(frame.y(p.y))}`).join('');
  const dots = points.map((p) => `<circle cx="${f(frame.x(p.x))}" cy="${f(frame.y(p.y))}" r="2.6" fill="${options.color}"><title>${escapeHtml(p.title)}</title></circle>`).join('');
  return `<g data-series="${escapeHtml(options.name)}"><path d="${path}" fill="none" stroke="${options.color}" stroke-width="2"${options.dashed ? ' stroke-dasharray="6 4"' : ''}/>${dots}</g>`;
}

export { f as round2 };
