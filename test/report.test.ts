import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../fixtures/web-harness.ts';
import { formatReport } from '../src/cli/commands/eval.ts';
import { discoverDataset, stratifiedSplit } from '../src/data/index.ts';
import { computeCalibration, computeMetrics, evaluate, type EvalReport } from '../src/eval/index.ts';
import { isFailure } from '../src/core/index.ts';
import { loadModel } from '../src/node/index.ts';
import { mistakesGallery } from '../src/report/gallery.ts';
import { REPORT_FILE, writeEvalReport, writeTrainReport } from '../src/report/index.ts';
import { niceDomain, ticks } from '../src/report/svg.ts';
import { defaultTrainOptions, train, type TrainingRecord } from '../src/train/index.ts';
import { firstFiles, SHOES, subsetDataset } from '../fixtures/shared-data.ts';
import { footwear } from './support/cli.ts';

// The report's formatting rule, restated here rather than imported, so a change on either side
// shows up as a failure: two decimals of a percentage, "n/a" where a ratio is undefined.
const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

/**
 * Expected calibration error, written independently of src/eval/calibration.ts: ten bins
 * [i/10, (i+1)/10), the last one closed, each weighted by its share of the photos.
 */
function independentEce(scores: number[], correct: boolean[]): number {
  let ece = 0;
  for (let b = 0; b < 10; b++) {
    const lo = b / 10;
    const hi = (b + 1) / 10;
    const inBin = scores.map((s, i) => ({ s, ok: correct[i] })).filter(({ s }) => s >= lo && (s < hi || (b === 9 && s <= 1)));
    if (inBin.length === 0) continue;
    const confidence = inBin.reduce((a, x) => a + x.s, 0) / inBin.length;
    const accuracy = inBin.filter((x) => x.ok).length / inBin.length;
    ece += (inBin.length / scores.length) * Math.abs(accuracy - confidence);
  }
  return ece;
}

/** Scores and outcomes of the exported ONNX model on labelled files, through the predict path. */
async function onnxOutcomes(model: string, files: { file: string; label: string }[]) {
  const classifier = await loadModel(model, { ep: 'cpu' });
  const labels = [...classifier.labels];
  const truth: number[] = [];
  const predicted: number[] = [];
  const scores: number[] = [];
  try {
    let i = 0;
    for await (const r of classifier.classifyFiles(files.map((f) => f.file))) {
      assert.ok(!isFailure(r), `${r.file} failed`);
      truth.push(labels.indexOf(files[i++].label));
      predicted.push(labels.indexOf(r.label));
      scores.push(r.score);
    }
  } finally {
    await classifier.release();
  }
  return { labels, truth, predicted, scores, correct: truth.map((t, i) => t === predicted[i]) };
}

interface ShownReport {
  metrics: Record<string, { text: string; value: string | null }>;
  cells: Record<string, string>;
  classMetrics: Record<string, string>;
  bestEpochMarkers: string[];
  curvePoints: Record<string, number>;
  gallery: { file: string; truth: string; predicted: string; score: number; caption: string; src: string; loaded: boolean }[];
  sources: string[];
}

/** What the rendered page shows, read through its data-* contract. */
async function readShown(page: Page): Promise<ShownReport> {
  // No named helpers inside: tsx compiles them with esbuild's __name(), which the page lacks.
  return page.evaluate(() => ({
    metrics: Object.fromEntries([...document.querySelectorAll<HTMLElement>('[data-metric]')].map((e) => [e.dataset.metric, { text: e.textContent ?? '', value: e.dataset.value ?? null }])),
    cells: Object.fromEntries([...document.querySelectorAll<HTMLElement>('[data-cell]')].map((e) => [e.dataset.cell, e.textContent ?? ''])),
    classMetrics: Object.fromEntries([...document.querySelectorAll<HTMLElement>('[data-class-metric]')].map((e) => [e.dataset.classMetric, e.textContent ?? ''])),
    bestEpochMarkers: [...document.querySelectorAll<SVGElement>('[data-best-epoch]')].map((e) => e.dataset.bestEpoch ?? ''),
    curvePoints: Object.fromEntries(
      [...document.querySelectorAll<SVGElement>('svg[data-chart] g[data-series]')].map((g) => [`${g.closest('svg')?.dataset.chart}:${g.dataset.series}`, g.querySelectorAll('circle').length]),
    ),
    gallery: [...document.querySelectorAll<HTMLElement>('figure.mistake')].map((f) => {
      const img = f.querySelector('img');
      return {
        file: f.dataset.file ?? '',
        truth: f.dataset.truth ?? '',
        predicted: f.dataset.predicted ?? '',
        score: Number(f.dataset.score),
        caption: f.querySelector('figcaption')?.textContent ?? '',
        src: img?.getAttribute('src') ?? '',
        loaded: Boolean(img && img.complete && img.naturalWidth > 0),
      };
    }),
    sources: [...document.querySelectorAll('[src], [href]')].map((e) => e.getAttribute('src') ?? e.getAttribute('href') ?? ''),
  }));
}

/** Opens a report file with every non-file request refused and recorded. */
async function openReport(browser: Browser, file: string): Promise<{ page: Page; shown: ShownReport; requests: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => [...document.images].every((img) => img.complete));
  return { page, shown: await readShown(page), requests, errors };
}

/** The numbers every report shows, checked against the JSON they come from. */
function assertShowsSummary(shown: ShownReport, s: EvalReport | NonNullable<TrainingRecord['result']['validation']>): void {
  assert.equal(shown.metrics.accuracy?.text, pct(s.accuracy), 'accuracy');
  assert.equal(Number(shown.metrics.accuracy?.value), s.accuracy, 'accuracy data-value is the exact JSON value');
  assert.equal(shown.metrics['macro-f1']?.text, pct(s.macroF1), 'macro-F1');
  assert.equal(shown.metrics['macro-f1-table']?.text, pct(s.macroF1), 'macro-F1 in the per-class table');
  assert.equal(shown.metrics.n?.text, String(s.n), 'photo count');
  assert.equal(shown.metrics.mistakes?.text, String(s.misclassified.length), 'mistake count');
  assert.equal(shown.metrics.ece?.text, pct(s.calibration.ece), 'ECE');
  assert.equal(Number(shown.metrics.ece?.value), s.calibration.ece);
  const k = s.labels.length;
  assert.equal(Object.keys(shown.cells).length, k * k, 'one cell per (truth, prediction)');
  s.confusion.forEach((row, r) => row.forEach((v, c) => assert.equal(shown.cells[`${r},${c}`], String(v), `confusion cell ${r},${c}`)));
  for (const c of s.perClass) {
    for (const key of ['precision', 'recall', 'f1'] as const) assert.equal(shown.classMetrics[`${c.label}:${key}`], pct(c[key]), `${c.label} ${key}`);
    assert.equal(shown.classMetrics[`${c.label}:support`], String(c.support), `${c.label} support`);
  }
  // The gallery: one thumbnail per mistake (all fit under the cap here), each a JPEG data URI
  // the browser decoded, captioned with the JSON's truth, prediction and score.
  assert.ok(s.misclassified.length <= 48, 'this small set has fewer mistakes than the gallery cap');
  assert.equal(shown.gallery.length, s.misclassified.length, 'a card per misclassified photo');
  assert.deepEqual(shown.gallery.map((g) => g.file).sort(), s.misclassified.map((m) => m.file).sort());
  for (const g of shown.gallery) {
    const m = s.misclassified.find((x) => x.file === g.file)!;
    assert.ok(g.src.startsWith('data:image/jpeg;base64,') && g.loaded, `${g.file}: thumbnail decoded`);
    assert.deepEqual([g.truth, g.predicted, g.score], [m.truth, m.predicted, m.score]);
    assert.match(g.caption, new RegExp(`^${m.predicted} ${pct(m.score).replace('.', '\\.')}truth: ${m.truth}`));
  }
  assert.deepEqual(
    shown.gallery.map((g) => g.score),
    [...shown.gallery.map((g) => g.score)].sort((a, b) => b - a),
    'most confident mistakes first',
  );
}

async function assertSelfContained(file: string, opened: { shown: ShownReport; requests: string[]; errors: string[] }): Promise<void> {
  const html = await readFile(file, 'utf8');
  assert.doesNotMatch(html, /https?:\/\//, 'no http(s) reference anywhere in the file');
  assert.deepEqual(opened.requests, [], 'the page asked for nothing over the network');
  assert.deepEqual(opened.errors, [], 'no page or CSP errors');
  assert.ok(
    opened.shown.sources.every((s) => s.startsWith('data:')),
    `every src/href is inline: ${opened.shown.sources.filter((s) => !s.startsWith('data:')).join(', ')}`,
  );
}

// Chromium comes from the OS (apt-get install chromium), never from a Playwright download.
const noBrowser = !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`;

describe('reports', () => {
  const VAL_SPLIT = 0.3;
  let work: string;
  let data: string;
  let model: string;
  let record: TrainingRecord;
  let trainStderr: string;
  let testData: string;
  let evalJson: EvalReport;
  let evalText: string;
  let evalStderr: string;
  let twoClassReport: EvalReport;
  let browser: Browser | undefined;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'fw-report-test-'));
    // 30 photos a class, 30% held out: a weak model on purpose, so there are mistakes to show.
    data = await subsetDataset(path.join(SHOES, 'train'), 30, 'shoes-train');
    model = path.join(work, 'model');
    const trained = await footwear('train', '--data', data, '--out', model, '--epochs', '12', '--val-split', String(VAL_SPLIT));
    assert.equal(trained.code, 0, trained.stderr);
    trainStderr = trained.stderr;
    record = JSON.parse(await readFile(path.join(model, 'training.json'), 'utf8')) as TrainingRecord;
    testData = await subsetDataset(path.join(SHOES, 'test'), 20, 'shoes-test');
    const evaluated = await footwear('eval', '--model', model, '--data', testData, '--json', '--report', path.join(work, 'eval.html'));
    assert.equal(evaluated.code, 0, evaluated.stderr);
    evalJson = JSON.parse(evaluated.stdout) as EvalReport;
    evalStderr = evaluated.stderr;
    evalText = (await footwear('eval', '--model', model, '--data', testData)).stdout;
    // Boots and shoes only: the model's Sandal class has no photos here.
    const twoClasses = path.join(work, 'boots-and-shoes');
    for (const { label, file } of await firstFiles(path.join(SHOES, 'test'), 5)) {
      if (label === 'Sandal') continue;
      await mkdir(path.join(twoClasses, label), { recursive: true });
      await symlink(file, path.join(twoClasses, label, path.basename(file)));
    }
    const classifier = await loadModel(model, { ep: 'cpu' });
    try {
      twoClassReport = await evaluate(classifier, twoClasses);
      await writeEvalReport(path.join(work, 'two.html'), twoClassReport, classifier.spec);
    } finally {
      await classifier.release();
    }
    if (!noBrowser) browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('train writes report.html beside training.json and says where', async () => {
    assert.equal(record.result.report, path.join(model, REPORT_FILE));
    assert.ok(existsSync(record.result.report));
    assert.ok(trainStderr.includes(`report: ${path.join(model, REPORT_FILE)}`), trainStderr);
  });

  test('the validation numbers in training.json are the best epoch\'s, photo for photo as the exported model sees them', async () => {
    const v = record.result.validation!;
    const best = record.result.history.find((h) => h.epoch === record.result.bestEpoch)!;
    // TF.js's evaluate() gave the epoch's accuracy as float32: the same count of right answers.
    assert.ok(Math.abs(v.accuracy - best.valAccuracy!) < 1e-6, `${v.accuracy} vs ${best.valAccuracy}`);
    assert.deepEqual(record.result.classCounts.map((c) => c.validation), [9, 9, 9]);
    // The same split, recomputed, scored by the exported ONNX model: same confusion, same ECE.
    const dataset = await discoverDataset(data);
    const { val } = stratifiedSplit(dataset.samples, VAL_SPLIT, record.config.seed);
    const outcomes = await onnxOutcomes(
      model,
      val.map((s) => ({ file: s.file, label: dataset.labels[s.label] })),
    );
    assert.deepEqual(computeMetrics(outcomes.labels, outcomes.truth, outcomes.predicted).confusion, v.confusion);
    assert.ok(Math.abs(independentEce(outcomes.scores, outcomes.correct) - v.calibration.ece) < 1e-4, 'ECE of the ONNX model on the same photos');
    assert.ok(v.misclassified.length > 0, 'the weak model makes mistakes to show');
  });

  test('eval --json: ECE, macro-F1 and mistakes agree with an independent computation', async () => {
    assert.match(evalStderr, /report: .*eval\.html/);
    const files = await firstFiles(path.join(SHOES, 'test'), 20);
    const o = await onnxOutcomes(model, files);
    assert.equal(evalJson.n, 60);
    assert.ok(Math.abs(evalJson.calibration.ece - independentEce(o.scores, o.correct)) < 1e-6, `${evalJson.calibration.ece} vs independent`);
    assert.equal(evalJson.calibration.bins.reduce((a, b) => a + b.count, 0), 60);
    const f1s = evalJson.perClass.map((c) => c.f1!);
    assert.equal(evalJson.macroF1, f1s.reduce((a, b) => a + b, 0) / 3);
    assert.equal(evalJson.misclassified.length, o.correct.filter((c) => !c).length);
    assert.ok(evalJson.misclassified.length > 0, 'a weak model on the test split makes mistakes');
  });

  test('eval text output shows macro-F1 and lists the misclassified files', () => {
    assert.match(evalText, new RegExp(`macro-F1 ${pct(evalJson.macroF1).replace('.', '\\.')}`));
    assert.match(evalText, new RegExp(`misclassified \\(${evalJson.misclassified.length}, most confident first\\):`));
    // The 20 most confident mistakes, in that order, then a count of the rest.
    const listed = evalText.split('\n').filter((l) => / predicted as /.test(l));
    const expected = [...evalJson.misclassified].sort((a, b) => b.score - a.score).slice(0, 20);
    assert.deepEqual(
      listed,
      expected.map((m) => `  ${path.relative(testData, m.file)}: ${m.truth} predicted as ${m.predicted} (${pct(m.score)})`),
    );
    const more = evalJson.misclassified.length - 20;
    if (more > 0) assert.match(evalText, new RegExp(`\\.\\.\\. and ${more} more \\(--json lists all\\)`));
    else assert.doesNotMatch(evalText, /more \(--json lists all\)/);
  });

  test('the training report shows training.json\'s numbers, curves and the restored epoch, self-contained', { skip: noBrowser }, async () => {
    const opened = await openReport(browser!, record.result.report);
    const { shown } = opened;
    const r = record.result;
    assertShowsSummary(shown, r.validation!);
    assert.equal(shown.metrics['best-epoch']?.text, String(r.bestEpoch));
    assert.deepEqual(shown.bestEpochMarkers, [String(r.bestEpoch), String(r.bestEpoch)], 'the restored epoch is marked on both charts');
    for (const chart of ['loss', 'accuracy']) {
      assert.equal(shown.curvePoints[`${chart}:train`], r.history.length, `${chart}: a train point per epoch`);
      assert.equal(shown.curvePoints[`${chart}:validation`], r.history.length, `${chart}: a validation point per epoch`);
    }
    const card = await opened.page.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLElement>('[data-card]')].map((e) => [e.dataset.card, e.textContent ?? ''])));
    assert.equal(card.data, data);
    assert.match(card.cut, /block_/);
    assert.match(card.input, /^224 x 224 RGB/);
    assert.match(card['export-check'], /model\.onnx/);
    await assertSelfContained(record.result.report, opened);
    await opened.page.close();
  });

  test('the eval report shows eval --json\'s numbers and calibration, self-contained', { skip: noBrowser }, async () => {
    const file = path.join(work, 'eval.html');
    const opened = await openReport(browser!, file);
    assertShowsSummary(opened.shown, evalJson);
    assert.deepEqual(opened.shown.bestEpochMarkers, [], 'no learning curves in an eval report');
    const bins = await opened.page.evaluate(() => [...document.querySelectorAll<SVGElement>('svg[data-chart="reliability"] [data-bin]')].map((g) => Number(g.dataset.count)));
    assert.deepEqual(
      bins,
      evalJson.calibration.bins.map((b) => b.count),
    );
    const card = await opened.page.evaluate(() => Object.fromEntries([...document.querySelectorAll<HTMLElement>('[data-card]')].map((e) => [e.dataset.card, e.textContent ?? ''])));
    assert.equal(card.data, testData);
    assert.equal(card['trained-on'], `${data} (${record.result.classCounts.reduce((a, c) => a + c.train, 0)} photos)`);
    await assertSelfContained(file, opened);
    await opened.page.close();
  });

  test('a class with no test photos reads n/a, not 0.00%, in the text output', () => {
    const sandal = twoClassReport.perClass.find((c) => c.label === 'Sandal')!;
    assert.equal(sandal.support, 0);
    assert.equal(sandal.recall, null);
    assert.equal(sandal.f1, null);
    assert.match(formatReport(twoClassReport), /^Sandal\s+\S+\s+n\/a\s+n\/a\s+0$/m);
    const present = twoClassReport.perClass.filter((c) => c.support > 0).map((c) => c.f1!);
    assert.equal(twoClassReport.macroF1, present.reduce((a, b) => a + b, 0) / present.length, 'macro-F1 over Boot and Shoe only');
  });

  test('... and in the report', { skip: noBrowser }, async () => {
    const sandal = twoClassReport.perClass.find((c) => c.label === 'Sandal')!;
    const { shown, page } = await openReport(browser!, path.join(work, 'two.html'));
    assert.equal(shown.classMetrics['Sandal:recall'], 'n/a');
    assert.equal(shown.classMetrics['Sandal:f1'], 'n/a');
    assert.equal(shown.classMetrics['Sandal:precision'], pct(sandal.precision));
    assert.equal(shown.metrics['macro-f1']?.text, pct(twoClassReport.macroF1));
    await page.close();
  });

  test('the gallery stops at its cap and counts the rest; a photo gone since keeps its card', async () => {
    const html = await mistakesGallery(evalJson.misclassified, { root: testData, background: [255, 255, 255], split: 'test', listedIn: 'eval --json', max: 2 });
    assert.equal(html.match(/<figure class="mistake"/g)?.length, 2);
    assert.equal(html.match(/<img src="data:image\/jpeg;base64,/g)?.length, 2);
    assert.match(html, new RegExp(`data-metric="mistakes-hidden">${evalJson.misclassified.length - 2}<`));
    const gone = { file: path.join(work, 'moved away.jpg'), truth: 'Boot', predicted: 'Shoe', score: 0.9 };
    const withGone = await mistakesGallery([gone], { root: work, background: [255, 255, 255], split: 'test', listedIn: 'eval --json' });
    assert.match(withGone, /<figure class="mistake" data-file="[^"]*moved away\.jpg"[^>]*><div class="noimg" title="[^"]*ENOENT[^"]*">no preview<\/div>/);
    assert.doesNotMatch(withGone, /mistakes-hidden/);
  });

  test('--val-split 0: the report says there is no held-out set and still shows the curves', async () => {
    const small = await subsetDataset(path.join(SHOES, 'train'), 8, 'shoes-train');
    const out = path.join(work, 'no-val');
    const result = await train({ ...defaultTrainOptions(small, out), epochs: 3, valSplit: 0, export: false });
    assert.equal(result.validation, undefined);
    assert.equal(await writeTrainReport(out), result.report);
    const html = await readFile(result.report, 'utf8');
    assert.match(html, /No validation photos, so there is no confusion matrix/);
    assert.equal(html.match(/data-best-epoch="(\d+)"/g)?.length, 2);
    assert.ok(html.includes(`data-best-epoch="${result.bestEpoch}"`));
    assert.doesNotMatch(html, /data-cell=|data-metric="accuracy"|figure class="mistake"/);
    assert.match(html, /data-card="export-check">not exported/);
  });
});

test('metrics: n/a for ratios with nothing to divide by; macro-F1 over the classes with photos', () => {
  // Truth has no class 2; class 1 is never predicted.
  const m = computeMetrics(['a', 'b', 'c'], [0, 0, 1, 1], [0, 0, 0, 2]);
  assert.deepEqual(
    m.perClass.map((c) => [c.precision, c.recall, c.f1, c.support]),
    [
      [2 / 3, 1, 0.8, 2],
      [null, 0, 0, 2],
      [0, null, null, 0],
    ],
  );
  assert.equal(m.macroF1, (0.8 + 0) / 2);
});

test('calibration: bins, the closed last bin and ECE against the independent formula', () => {
  const scores = [0.35, 0.55, 0.62, 0.91, 0.97, 1, 1, 0.4999];
  const correct = [false, true, false, true, true, true, false, true];
  const c = computeCalibration(scores, correct);
  assert.deepEqual(
    c.bins.map((b) => b.count),
    [0, 0, 0, 1, 1, 1, 1, 0, 0, 4],
  );
  assert.equal(c.bins[9].accuracy, 3 / 4);
  assert.ok(Math.abs(c.ece - independentEce(scores, correct)) < 1e-12);
  assert.deepEqual(computeCalibration([], []).ece, 0);
});

test('chart axes: ticks without float residue, domains widened to whole steps within [0, 1]', () => {
  assert.deepEqual(ticks(0, 1, 0.2), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(ticks(0.8, 1, 0.05), [0.8, 0.85, 0.9, 0.95, 1]);
  assert.deepEqual(niceDomain([0.836, 0.995], { floor: 0, ceiling: 1 }), { domain: [0.8, 1], step: 0.05 });
  assert.deepEqual(niceDomain([0, 0.41, 0.03], { floor: 0 }).domain, [0, 0.5]);
  // One value (a single epoch) still spans a visible range.
  const single = niceDomain([0.5]).domain;
  assert.ok(single[0] < 0.5 && single[1] > 0.5);
});
