import type { EpochStats } from '../train/events.ts';
import { escapeHtml, lossText, percent } from './format.ts';
import { chartSvg, lineSeries, niceDomain, niceStep, round2, ticks, type Frame } from './svg.ts';

const TRAIN_COLOR = '#2563eb';
const VAL_COLOR = '#ea580c';

/**
 * The restored epoch as a dashed vertical line the reader (and the test) can find. Its label
 * sits at the top or bottom end of the line, whichever is farther from the curves there, so it
 * never covers them (accuracy curves hug the top, loss curves the bottom).
 */
function bestMarker(frame: Frame, bestEpoch: number, valuesAtBest: number[]): string {
  const x = round2(frame.x(bestEpoch));
  const anchor = x > (frame.left + frame.right) / 2 ? 'end' : 'start';
  const dx = anchor === 'end' ? -5 : 5;
  const ys = valuesAtBest.map(frame.y);
  const curvesHigh = ys.length > 0 && ys.reduce((a, b) => a + b, 0) / ys.length < (frame.top + frame.bottom) / 2;
  const labelY = curvesHigh ? frame.bottom - 8 : frame.top + 12;
  return (
    `<g class="best-epoch" data-best-epoch="${bestEpoch}"><line x1="${x}" x2="${x}" y1="${frame.top}" y2="${frame.bottom}" stroke="#16a34a" stroke-width="1.5" stroke-dasharray="4 3"/>` +
    `<text x="${x + dx}" y="${labelY}" text-anchor="${anchor}" style="fill:#15803d">best epoch ${bestEpoch} (restored)</text></g>`
  );
}

function curveChart(history: readonly EpochStats[], bestEpoch: number, what: 'loss' | 'accuracy'): string {
  const trainOf = (s: EpochStats) => (what === 'loss' ? s.loss : s.accuracy);
  const valOf = (s: EpochStats) => (what === 'loss' ? s.valLoss : s.valAccuracy);
  const show = what === 'loss' ? lossText : percent;
  const epochs = history.map((s) => s.epoch);
  const first = Math.min(...epochs);
  const last = Math.max(...epochs);
  // One epoch still gets a visible x range around its single point.
  const xDomain: [number, number] = first === last ? [first - 1, last + 1] : [first, last];
  const xStep = Math.max(1, Math.round(niceStep(xDomain[1] - xDomain[0], 8)));
  const values = history.flatMap((s) => [trainOf(s), valOf(s)]).filter((v): v is number => v !== undefined);
  const y = what === 'loss' ? niceDomain([0, ...values], { floor: 0 }) : niceDomain(values, { floor: 0, ceiling: 1 });
  const point = (s: EpochStats, v: number, split: string) => ({ x: s.epoch, y: v, title: `epoch ${s.epoch}, ${split} ${what} ${show(v)}` });
  const trainPoints = history.map((s) => point(s, trainOf(s), 'train'));
  const valPoints = history.flatMap((s) => (valOf(s) === undefined ? [] : [point(s, valOf(s) as number, 'validation')]));
  const best = history.find((s) => s.epoch === bestEpoch);
  const atBest = best ? [trainOf(best), valOf(best)].filter((v): v is number => v !== undefined) : [];
  const svg = chartSvg(
    {
      x: { domain: xDomain, ticks: ticks(Math.ceil(xDomain[0]), xDomain[1], xStep).filter((t) => t >= 1), format: String, label: 'epoch' },
      y: { domain: y.domain, ticks: ticks(y.domain[0], y.domain[1], y.step), format: what === 'loss' ? (v) => String(v) : (v) => `${Math.round(v * 100)}%`, label: what },
      description: `${what} per epoch, train${valPoints.length ? ' and validation' : ''}; best epoch ${bestEpoch}`,
      attributes: `data-chart="${what}"`,
    },
    (frame) => lineSeries(frame, trainPoints, { color: TRAIN_COLOR, name: 'train' }) + lineSeries(frame, valPoints, { color: VAL_COLOR, name: 'validation' }) + (bestEpoch > 0 ? bestMarker(frame, bestEpoch, atBest) : ''),
  );
  const legend = `<div class="legend"><span><i style="background:${TRAIN_COLOR}"></i>train</span>${valPoints.length ? `<span><i style="background:${VAL_COLOR}"></i>validation</span>` : ''}<span><i style="background:#16a34a"></i>restored epoch</span></div>`;
  return `<figure class="chart"><figcaption>${what === 'loss' ? 'Loss' : 'Accuracy'}</figcaption>${svg}${legend}</figure>`;
}

function epochTable(history: readonly EpochStats[], bestEpoch: number): string {
  const rows = history
    .map(
      (s) =>
        `<tr data-epoch="${s.epoch}"${s.epoch === bestEpoch ? ' class="best"' : ''}><td>${s.epoch}${s.epoch === bestEpoch ? ' \u2190 best' : ''}</td><td>${lossText(s.loss)}</td><td>${percent(s.accuracy)}</td><td>${lossText(s.valLoss)}</td><td>${percent(s.valAccuracy)}</td><td>${s.seconds.toFixed(1)}</td></tr>`,
    )
    .join('');
  return `<details><summary>Every epoch as numbers</summary><table><thead><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>val loss</th><th>val accuracy</th><th>seconds</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}

/**
 * Loss and accuracy per epoch for the training and validation sets, with the epoch whose weights
 * were restored marked: the curves show whether stopping there was right (validation loss at its
 * lowest) or whether more epochs, data or regularisation would help (a widening gap).
 */
export function learningCurves(history: readonly EpochStats[], bestEpoch: number, stop: { maxEpochs: number; patience: number }): string {
  if (history.length === 0) return '<p class="note">No epoch ran in this session (the run was resumed after its last epoch).</p>';
  const last = history[history.length - 1].epoch;
  const monitored = history.some((s) => s.valLoss !== undefined) ? 'validation loss' : 'training loss (no validation split)';
  const stopped =
    last < stop.maxEpochs
      ? `Training stopped after epoch ${last} of at most ${stop.maxEpochs}: ${monitored} had not improved for ${stop.patience} epochs.`
      : `Training ran all ${stop.maxEpochs} epochs.`;
  return (
    `<p class="note">${escapeHtml(stopped)} The weights of epoch <strong data-metric="best-epoch-note">${bestEpoch}</strong>, the lowest ${escapeHtml(monitored)}, were restored and exported. ` +
    `Training numbers are averaged over each epoch while the weights change, with dropout on, so they can sit below the validation ones.</p>` +
    `<div class="charts">${curveChart(history, bestEpoch, 'loss')}${curveChart(history, bestEpoch, 'accuracy')}</div>` +
    epochTable(history, bestEpoch)
  );
}
