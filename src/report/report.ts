import type { ScoredSummary } from '../eval/index.ts';
import type { EpochStats } from '../train/events.ts';
import { calibrationSection } from './calibration.ts';
import { confusionSection } from './confusion.ts';
import { learningCurves } from './curves.ts';
import { count, escapeHtml, percent } from './format.ts';
import { mistakesGallery } from './gallery.ts';
import { page, section, tiles, type Tile } from './html.ts';
import { renderCard, type CardSection } from './model-card.ts';

export interface ReportInput {
  title: string;
  /** One sentence under the title: what was scored on what. */
  lead: string;
  /** Which photos the numbers are about: 'validation' after training, 'test' for eval. */
  split: 'validation' | 'test';
  /** Absent when there were no such photos (training with --val-split 0). */
  summary?: ScoredSummary;
  curves?: { history: EpochStats[]; bestEpoch: number; maxEpochs: number; patience: number };
  card: CardSection[];
  /** Folder the photos' names are shown relative to. */
  root: string;
  /** The model's padding colour, used to flatten transparent thumbnails as the model saw them. */
  background: [number, number, number];
  /** Where the full list of mistakes is (shown when the gallery is cut short). */
  listedIn: string;
  footer: string;
}

function headline(input: ReportInput): string {
  const list: Tile[] = [];
  const s = input.summary;
  if (s) {
    list.push(
      { metric: 'accuracy', value: percent(s.accuracy), label: `${input.split} accuracy`, raw: s.accuracy },
      { metric: 'macro-f1', value: percent(s.macroF1), label: 'macro-F1', raw: s.macroF1 },
      { metric: 'n', value: count(s.n), label: `${input.split} photos`, raw: s.n },
      { metric: 'mistakes', value: count(s.misclassified.length), label: 'misclassified', raw: s.misclassified.length },
      { metric: 'ece-tile', value: percent(s.calibration.ece), label: 'calibration error (ECE)', raw: s.calibration.ece },
    );
  }
  if (input.curves) list.push({ metric: 'best-epoch', value: String(input.curves.bestEpoch), label: `best of ${input.curves.history.length} epochs`, raw: input.curves.bestEpoch });
  return tiles(list);
}

/**
 * The whole report as one HTML string: headline numbers, learning curves (training only), the
 * confusion matrix with per-class metrics, calibration, the mistakes and the model card.
 */
export async function renderReport(input: ReportInput): Promise<string> {
  const parts = [`<header><h1>${escapeHtml(input.title)}</h1><p class="lead">${escapeHtml(input.lead)}</p>${headline(input)}</header>`];
  if (input.curves) parts.push(section('curves', 'Learning curves', learningCurves(input.curves.history, input.curves.bestEpoch, input.curves)));
  const s = input.summary;
  if (s) {
    parts.push(section('confusion', `Confusion matrix and per-class metrics (${input.split})`, confusionSection(s, input.split)));
    parts.push(section('calibration', 'Calibration', calibrationSection(s.calibration, input.split)));
    parts.push(
      section('mistakes', `Misclassified ${input.split} photos`, await mistakesGallery(s.misclassified, { root: input.root, background: input.background, split: input.split, listedIn: input.listedIn })),
    );
  } else {
    parts.push(section('confusion', 'Held-out results', `<p>No ${input.split} photos, so there is no confusion matrix, calibration or list of mistakes here. Score the model on a test folder with <code>footwear eval --report</code>.</p>`));
  }
  parts.push(section('card', 'Model card', renderCard(input.card)));
  return page({ title: input.title, body: parts.join('\n'), footer: input.footer });
}
