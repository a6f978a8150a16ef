import type { Calibration } from '../eval/index.ts';
import { escapeHtml, percent } from './format.ts';
import { chartSvg, round2, ticks } from './svg.ts';

/**
 * Reliability diagram: for each band of top-1 scores, the share of photos the model got right
 * (bar) against the diagonal a perfectly calibrated model would follow. Bars below the diagonal
 * mean overconfidence: a 0.95 score is right less than 95% of the time. Each bar's label is its
 * photo count, since a bar over three photos says little.
 */
export function reliabilityDiagram(c: Calibration): string {
  const axisTicks = ticks(0, 1, 0.2);
  return chartSvg(
    {
      width: 460,
      height: 320,
      x: { domain: [0, 1], ticks: axisTicks, format: (v) => v.toFixed(1), label: 'top-1 score (confidence)' },
      y: { domain: [0, 1], ticks: axisTicks, format: (v) => `${Math.round(v * 100)}%`, label: 'share correct' },
      description: `reliability diagram over ${c.bins.length} score bins; expected calibration error ${percent(c.ece)}`,
      attributes: 'data-chart="reliability"',
    },
    (frame) => {
      const diagonal = `<line x1="${frame.x(0)}" y1="${frame.y(0)}" x2="${frame.x(1)}" y2="${frame.y(1)}" stroke="#8c959f" stroke-dasharray="5 4"/>`;
      const bars = c.bins
        .map((bin, i) => {
          const x0 = round2(frame.x(bin.from) + 1.5);
          const w = round2(frame.x(bin.to) - frame.x(bin.from) - 3);
          const attrs = `data-bin="${i}" data-count="${bin.count}"`;
          if (bin.count === 0 || bin.accuracy === null || bin.confidence === null) return `<g ${attrs}></g>`;
          const top = round2(frame.y(bin.accuracy));
          // The gap between a bar and the mean score of its photos is what ECE adds up.
          const gapTop = round2(Math.min(frame.y(bin.confidence), frame.y(bin.accuracy)));
          const gapHeight = round2(Math.abs(frame.y(bin.confidence) - frame.y(bin.accuracy)));
          const title = `scores ${bin.from.toFixed(1)}-${bin.to.toFixed(1)}: ${bin.count} photo(s), mean score ${percent(bin.confidence)}, correct ${percent(bin.accuracy)}`;
          return (
            `<g ${attrs}><title>${escapeHtml(title)}</title>` +
            `<rect x="${x0}" y="${top}" width="${w}" height="${round2(frame.bottom - top)}" fill="#2563eb" fill-opacity="0.75"/>` +
            `<rect x="${x0}" y="${gapTop}" width="${w}" height="${gapHeight}" fill="#dc2626" fill-opacity="0.18" stroke="#dc2626" stroke-width="0.8" stroke-dasharray="3 2"/>` +
            `<text x="${round2(x0 + w / 2)}" y="${round2(Math.min(top, gapTop) - 4)}" text-anchor="middle" font-size="10">${bin.count}</text></g>`
          );
        })
        .join('');
      return bars + diagonal;
    },
  );
}

function binTable(c: Calibration): string {
  const rows = c.bins
    .map((b, i) => `<tr data-bin-row="${i}"><td>${b.from.toFixed(1)}\u2013${b.to.toFixed(1)}</td><td>${b.count}</td><td>${percent(b.confidence)}</td><td>${percent(b.accuracy)}</td></tr>`)
    .join('');
  return `<details><summary>The bins as numbers</summary><table><thead><tr><th>score</th><th>photos</th><th>mean score</th><th>correct</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

export function calibrationSection(c: Calibration, split: string): string {
  const overconfident = c.bins.reduce((a, b) => a + (b.count && (b.confidence as number) > (b.accuracy as number) ? b.count : 0), 0);
  return (
    `<div class="side"><figure class="chart" style="flex:0 1 480px"><figcaption>Reliability on ${escapeHtml(split)} photos</figcaption>${reliabilityDiagram(c)}` +
    `<div class="legend"><span><i style="background:#2563eb"></i>share correct</span><span><i style="background:#dc2626;opacity:.5"></i>gap to mean score</span><span><i style="background:#8c959f"></i>perfect calibration</span></div></figure>` +
    `<div style="flex:1 1 300px"><p>Expected calibration error: <strong data-metric="ece" data-value="${c.ece}">${percent(c.ece)}</strong> over ${c.n} photos in ${c.bins.length} equal-width score bins.</p>` +
    `<p class="note">ECE is the photo-weighted mean gap between how sure the model was (its top score) and how often it was right. ` +
    `${overconfident} of ${c.n} photos fall in bins where the mean score exceeds the share correct (overconfidence). ` +
    `A score threshold for "not sure" should be chosen on this curve, not on the raw score.</p>${binTable(c)}</div></div>`
  );
}
