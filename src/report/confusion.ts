import type { EvalMetrics } from '../eval/index.ts';
import { count, escapeHtml, percent } from './format.ts';

/**
 * The confusion matrix as a table (rows = truth, columns = prediction), each cell shaded by its
 * share of the row: blue on the diagonal, red off it, so the classes a model mixes up stand out
 * whatever the class sizes. Counts stay as text: a table can be read, copied and tested.
 */
export function confusionMatrix(m: EvalMetrics): string {
  const head = m.labels.map((l) => `<th scope="col">${escapeHtml(l)}</th>`).join('');
  const rows = m.confusion
    .map((row, r) => {
      const total = row.reduce((a, b) => a + b, 0);
      const cells = row
        .map((v, c) => {
          const share = total ? v / total : 0;
          const rgb = r === c ? 'var(--good)' : 'var(--bad)';
          // Shade strength follows the share of the row, light enough to keep the number legible.
          const alpha = v === 0 ? 0 : 0.08 + 0.5 * share;
          const title = `truth ${m.labels[r]}, predicted ${m.labels[c]}: ${v}${total ? ` (${percent(share)} of ${m.labels[r]})` : ''}`;
          return `<td data-cell="${r},${c}" title="${escapeHtml(title)}" style="background:rgba(${rgb},${alpha.toFixed(3)})">${v}</td>`;
        })
        .join('');
      return `<tr><th class="row" scope="row">${escapeHtml(m.labels[r])}</th>${cells}<td class="muted" data-row-total="${r}">${total}</td></tr>`;
    })
    .join('');
  return (
    `<table class="confusion" data-testid="confusion"><thead><tr><th class="corner">truth \u2193 / predicted \u2192</th>${head}<th class="muted">photos</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>`
  );
}

const METRICS = ['precision', 'recall', 'f1'] as const;

/** Precision, recall and F1 per class; n/a where a class has no photos or was never predicted. */
export function classMetricsTable(m: EvalMetrics): string {
  const rows = m.perClass
    .map((c) => {
      const cells = METRICS.map((k) => `<td data-class-metric="${escapeHtml(`${c.label}:${k}`)}">${percent(c[k])}</td>`).join('');
      return `<tr><th class="row" scope="row">${escapeHtml(c.label)}</th>${cells}<td data-class-metric="${escapeHtml(`${c.label}:support`)}">${count(c.support)}</td></tr>`;
    })
    .join('');
  const macro = `<tr><th class="row" scope="row">macro average</th><td></td><td></td><td data-metric="macro-f1-table">${percent(m.macroF1)}</td><td>${count(m.n)}</td></tr>`;
  return (
    `<table class="per-class" data-testid="per-class"><thead><tr><th class="row">class</th><th>precision</th><th>recall</th><th>F1</th><th>photos</th></tr></thead>` +
    `<tbody>${rows}${macro}</tbody></table>`
  );
}

export function confusionSection(m: EvalMetrics, split: string): string {
  const absent = m.perClass.filter((c) => c.support === 0).map((c) => c.label);
  const notes = [
    `Rows are the true class (the ${split} folder a photo sits in), columns what the model predicted; the diagonal holds the correct answers.`,
    'Precision: of the photos predicted as a class, the share that were that class. Recall: of the photos of a class, the share found. F1: their harmonic mean; macro-F1 averages it over the classes with photos.',
  ];
  if (absent.length) notes.push(`No ${split} photos of ${absent.join(', ')}: their recall and F1 are n/a, not 0, and they are left out of macro-F1.`);
  return `<div class="side">${confusionMatrix(m)}${classMetricsTable(m)}</div>${notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('')}`;
}
