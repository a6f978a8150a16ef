// `npm run bench:tta -- --model DIR [--data ../shared/data/shoe-sandal-boot/test] [--settings off,mirror,3,4] [--rounds 3] [--write]`:
// what test-time augmentation costs and gains. Each --tta setting gets its own loaded classifier;
// every round runs `eval`'s evaluate() over the whole test folder once per setting, in an order
// that rotates from round to round, so all settings see the same machine load. Reports accuracy
// (the same every round: inference is deterministic), photos/s and CPU ms per photo, medians over
// rounds and each setting's per-round time ratio to off. Writes "## Test-time augmentation" with
// --write, after every round, so a run cut short keeps the rounds it finished.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseTta, ttaName, ttaViews, type TtaSetting } from '../src/core/index.ts';
import { discoverDataset } from '../src/data/index.ts';
import { evaluate, type EvalReport } from '../src/eval/index.ts';
import { loadModel, type Classifier } from '../src/node/index.ts';
import { SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { machine, writeSection } from './sections.ts';
import { load1m, quantile } from './stats.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    data: { type: 'string', default: path.join(SHOES, 'test') },
    settings: { type: 'string', default: 'off,mirror,3,4' },
    rounds: { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
  },
});
const usage = 'usage: npm run bench:tta -- --model DIR [--data DIR] [--settings off,mirror,3,4] [--rounds 3] [--write]';
const settings = (values.settings as string).split(',').map((s) => {
  const setting = parseTta(s);
  if (setting === undefined) throw new Error(`--settings: "${s}" is not a --tta value\n${usage}`);
  return setting;
});
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds should be a positive integer\n${usage}`);
const model = values.model ?? (await trainedModel());
const data = values.data as string;
const here = path.resolve(import.meta.dirname, '..');

interface Run {
  seconds: number;
  cpuMs: number;
  load: number;
}
interface Row {
  name: string;
  views: number;
  classifier: Classifier;
  report?: EvalReport;
  runs: Run[];
}

const rows: Row[] = [];
for (const setting of settings as TtaSetting[]) {
  rows.push({ name: ttaName(setting), views: ttaViews(setting), classifier: await loadModel(model, { ep: 'cpu', tta: setting }), runs: [] });
}
// A first pass starts each classifier's preprocessing workers and warms its session at the
// batch shapes used, so the first timed run is not charged for start-up.
const warmup = (await discoverDataset(data, { minClasses: 1 })).samples.slice(0, 32).map((s) => s.file);
for (const row of rows) for await (const result of row.classifier.classifyFiles(warmup)) void result;
const loadStart = load1m();
const started = new Date().toISOString();

/** One evaluate() over the folder: wall seconds, and CPU (user + system, every thread of this process) per photo. */
async function measure(row: Row): Promise<{ report: EvalReport; run: Run }> {
  const load = load1m();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const report = await evaluate(row.classifier, data);
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { report, run: { seconds, cpuMs: (used.user + used.system) / 1000 / report.n, load } };
}

const fmt = (x: number, digits = 1) => x.toFixed(digits);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function section(): string {
  const done = Math.min(...rows.map((r) => r.runs.length));
  const off = rows.find((r) => r.views === 1);
  const n = rows[0].report?.n ?? 0;
  const right = (r: Row) => (r.report ? Math.round(r.report.accuracy * r.report.n) : 0);
  const lines = [
    `- machine: ${machine()}; 1-minute load average ${loadStart} at the start and ${load1m()} at the end, per run in the round table (shared with other work: the settings ran in turn, in an order rotating each round, so each round's runs saw about the same load)`,
    `- date: ${started}`,
    `- command: \`npm run bench:tta -- --model ${values.model ?? '(the test fixture model)'} --data ${path.relative(here, data)} --settings ${values.settings} --rounds ${rounds}${values.write ? ' --write' : ''}\`: \`footwear eval\`'s evaluate() over all ${n} photos, once per setting per round, each setting on its own classifier, loaded and warmed up on 32 photos before the first round (\`--ep cpu\`, batch 8; model load not timed)`,
    `- views: 1 the photo, 2 + its left-right mirror, 3 + a centre zoom (the middle ${87.5}% of the resized input, enlarged back), 4 + the zoom's mirror; all views of a batch run in one ONNX Runtime call and the per-photo probabilities are averaged`,
    `- rounds finished: ${done} of ${rounds}; photos/s is photos over evaluate()'s time (read, decode, resize, views, inference); CPU is user + system time of the whole process (all threads) per photo`,
    '',
    '| --tta | views | right of ' + n + ' | accuracy | macro-F1 | vs off | photos/s per round | median photos/s | median CPU ms/photo | time vs off (median of rounds) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const rates = r.runs.map((x) => n / x.seconds);
    const ratios = off ? r.runs.slice(0, off.runs.length).map((x, i) => x.seconds / off.runs[i].seconds) : [];
    const delta = off?.report && r.report ? right(r) - right(off) : 0;
    lines.push(
      `| ${r.name} | ${r.views} | ${right(r)} | ${r.report ? pct(r.report.accuracy) : '-'} | ${r.report ? pct(r.report.macroF1) : '-'} | ${delta > 0 ? '+' : ''}${delta} | ${rates.map((x) => fmt(x)).join(', ')} | ${fmt(quantile(rates, 0.5))} | ${fmt(quantile(r.runs.map((x) => x.cpuMs), 0.5))} | ${ratios.length ? `${fmt(quantile(ratios, 0.5), 2)}x (${fmt(Math.min(...ratios), 2)}-${fmt(Math.max(...ratios), 2)})` : '-'} |`,
    );
  }
  // Which photos a setting puts right or wrong compared with off: a net count can hide churn.
  const wrong = (r: Row) => new Set(r.report?.misclassified.map((m) => m.file));
  if (off?.report) {
    lines.push('');
    for (const r of rows.filter((x) => x !== off && x.report)) {
      const [was, now] = [wrong(off), wrong(r)];
      const fixed = [...was].filter((f) => !now.has(f)).length;
      const broke = [...now].filter((f) => !was.has(f)).length;
      lines.push(`- --tta ${r.name} against off: ${fixed} photo(s) off got wrong are right, ${broke} that off got right are wrong (net ${fixed - broke > 0 ? '+' : ''}${fixed - broke})`);
    }
    const best = rows.filter((r) => r.report).sort((a, b) => right(b) - right(a) || a.views - b.views)[0];
    lines.push(
      '',
      best === off
        ? `No --tta setting got more photos right than off here, at ${fmt(quantile(rows.filter((r) => r !== off).map((r) => quantile(r.runs.map((x) => x.cpuMs), 0.5)), 0) / quantile(off.runs.map((x) => x.cpuMs), 0.5), 1)}x its CPU per photo or more.`
        : `--tta ${best.name} got the most photos right: ${right(best) - right(off)} more than off, at ${fmt(quantile(best.runs.map((x) => x.cpuMs), 0.5) / quantile(off.runs.map((x) => x.cpuMs), 0.5), 1)}x its CPU per photo.`,
    );
  }
  lines.push('', '| round | ' + rows.map((r) => `${r.name}: s (load)`).join(' | ') + ' |', '| ---: | ' + rows.map(() => '---:').join(' | ') + ' |');
  for (let i = 0; i < done; i++) lines.push(`| ${i + 1} | ${rows.map((r) => `${fmt(r.runs[i].seconds)} (${r.runs[i].load})`).join(' | ')} |`);
  return lines.join('\n');
}

for (let round = 0; round < rounds; round++) {
  // Rotate the order, so no setting always runs first (colder) or right after the heaviest.
  const order = rows.map((_, i) => rows[(i + round) % rows.length]);
  for (const row of order) {
    const { report, run } = await measure(row);
    if (row.report && row.report.accuracy !== report.accuracy) throw new Error(`--tta ${row.name}: accuracy changed between rounds (${row.report.accuracy} vs ${report.accuracy})`);
    row.report = report;
    row.runs.push(run);
    process.stderr.write(`round ${round + 1}, --tta ${row.name}: ${pct(report.accuracy)}, ${fmt(report.n / run.seconds)} photos/s (load ${run.load})\n`);
  }
  if (values.write) await writeSection('## Test-time augmentation', section());
}
for (const row of rows) await row.classifier.release();
process.stdout.write(`${section()}\n`);
