import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { expandInputs } from '../src/data/index.ts';
import { parseCsvRecord } from '../src/cli/csv.ts';
import { SHARED_MISSING, SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { BIN, footwear } from './support/cli.ts';

// `footwear predict` at catalogue scale, through the built binary: --jsonl against --json,
// --resume after a killed run, --shard, and the files a folder walk skips.

interface Row {
  file: string;
  label?: string;
  score?: number;
  topK?: { label: string; score: number }[];
  error?: { code: string; message: string };
}
interface Summary {
  predicted: number;
  failed: number;
  resumedRows: number;
  skipped: { total: number; byExtension: Record<string, number> };
  shard: { index: number; count: number } | null;
  seconds: number;
  photosPerSecond: number;
}

/** JSON Lines: the rows, and the summary line that ends a finished output. */
function parseJsonl(text: string): { rows: Row[]; summary?: Summary } {
  const objects = text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Row | { summary: Summary });
  const rows = objects.filter((o): o is Row => 'file' in o);
  const summaries = objects.filter((o): o is { summary: Summary } => 'summary' in o);
  assert.ok(summaries.length <= 1 && (summaries.length === 0 || objects.at(-1) === summaries[0]), 'one summary, last');
  return { rows, summary: summaries[0]?.summary };
}

let work = '';
let model = '';
/** Real photos in nested folders, a corrupt one, and files whose names are not images'. */
let folder = '';

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'fw-catalog-'));
  if (SHARED_MISSING) return;
  model = await trainedModel();
  folder = path.join(work, 'photos');
  for (const [i, { label, file }] of (await firstFiles(path.join(SHOES, 'test'), 8)).entries()) {
    const dir = path.join(folder, label, i % 2 ? 'side' : '');
    await mkdir(dir, { recursive: true });
    await symlink(file, path.join(dir, path.basename(file)));
  }
  await writeFile(path.join(folder, 'Boot', 'half, cut.jpg'), (await readFile((await firstFiles(path.join(SHOES, 'test'), 1))[0].file)).subarray(0, 300));
  await writeFile(path.join(folder, 'drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(folder, 'Shoe', 'README'), 'photos from the spring shoot');
  await writeFile(path.join(folder, 'Shoe', 'sizes.txt'), '38 39 40');
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('footwear predict at catalogue scale', { skip: SHARED_MISSING }, () => {
  test('--jsonl rows are --json results, in order, and the summary counts the skipped files', { timeout: 180_000 }, async () => {
    const json = await footwear('predict', '--model', model, folder, '--json', '--ep', 'cpu');
    assert.equal(json.code, 1, json.stderr);
    const document = JSON.parse(json.stdout) as { results: Row[]; failed: number; skipped: Summary['skipped'] };
    assert.equal(document.results.length, 25);
    assert.deepEqual(document.results.map((r) => r.file), await expandInputs([folder]));
    assert.equal(document.failed, 1);
    assert.deepEqual(document.skipped, { total: 3, byExtension: { '(none)': 1, '.svg': 1, '.txt': 1 } });

    const out = path.join(work, 'out', 'predictions.jsonl');
    const file = await footwear('predict', '--model', model, folder, '--jsonl', out, '--ep', 'cpu');
    assert.equal(file.code, 1, file.stderr);
    assert.ok(!existsSync(`${out}.partial`), 'the partial file became the output');
    const written = parseJsonl(await readFile(out, 'utf8'));
    assert.deepEqual(written.rows, document.results);
    assert.deepEqual(written.summary && [written.summary.predicted, written.summary.failed, written.summary.resumedRows, written.summary.shard], [24, 1, 0, null]);
    assert.deepEqual(written.summary?.skipped, document.skipped);
    assert.match(file.stderr, /^skipped 3 file\(s\) in folders whose names are not images' \(1 without an extension, 1 \.svg, 1 \.txt\)/m);
    assert.match(file.stderr, /^24 predicted, 1 failed/m);

    const piped = await footwear('predict', '--model', model, folder, '--jsonl', '-', '--ep', 'cpu');
    // Everything but this run's own timing is the same, wherever the rows go.
    const untimed = ({ rows, summary }: ReturnType<typeof parseJsonl>) => ({ rows, summary: summary && { ...summary, seconds: 0, photosPerSecond: 0 } });
    assert.deepEqual(untimed(parseJsonl(piped.stdout)), untimed(written));
    assert.ok(written.summary && written.summary.seconds > 0 && written.summary.photosPerSecond > 0);

    // The same .svg named on the command line is not skipped: it gets its own error.
    const named = await footwear('predict', '--model', model, path.join(folder, 'drawing.svg'), '--jsonl', '-', '--ep', 'cpu');
    const [row] = parseJsonl(named.stdout).rows;
    assert.equal(row.error?.code, 'unsupported');
  });

  test('--resume after a killed run finishes the listing with every file exactly once', { timeout: 300_000 }, async () => {
    const big = path.join(work, 'big');
    const photos = (await firstFiles(path.join(SHOES, 'test'), 40)).map((p) => p.file);
    for (let copy = 0; copy < 5; copy++) {
      await mkdir(path.join(big, `copy ${copy}`), { recursive: true });
      for (const photo of photos) await symlink(photo, path.join(big, `copy ${copy}`, path.basename(photo)));
    }
    const listing = await expandInputs([big]);
    assert.equal(listing.length, 600);
    const out = path.join(work, 'resume', 'predictions.jsonl');
    const partial = `${out}.partial`;
    const child = spawn(process.execPath, [BIN, 'predict', '--model', model, big, '--jsonl', out, '--ep', 'cpu'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    let lines = 0;
    // Wait (as long as it takes) for rows to reach the disk, then kill the run without warning.
    while (lines < 40) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(child.exitCode, null, 'the run should still be going when it is killed');
      lines = existsSync(partial) ? (await readFile(partial, 'utf8')).split('\n').length - 1 : 0;
    }
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(out), 'a killed run leaves no finished output');
    const before = parseJsonl((await readFile(partial, 'utf8')).replace(/[^\n]*$/, ''));
    assert.ok(before.rows.length >= 40 && before.rows.length < 600, `${before.rows.length} rows before the kill`);
    assert.deepEqual(before.rows.map((r) => r.file), listing.slice(0, before.rows.length), 'rows are written in listing order');

    const resumed = await footwear('predict', '--model', model, big, '--jsonl', out, '--resume', '--ep', 'cpu');
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`^resuming .*predictions\\.jsonl\\.partial: ${before.rows.length} rows there already`, 'm'));
    const after = parseJsonl(await readFile(out, 'utf8'));
    assert.deepEqual(after.rows.map((r) => r.file), listing, 'every file once, in listing order');
    assert.deepEqual(after.rows.slice(0, before.rows.length), before.rows, 'the rows from before the kill are kept as they were');
    assert.deepEqual(after.summary && [after.summary.predicted, after.summary.failed, after.summary.resumedRows], [600, 0, before.rows.length]);
    assert.ok(!existsSync(partial));

    // Resuming a finished output with new photos in the folder predicts only those.
    await symlink(photos[0], path.join(big, 'copy 2', 'added later.jpg'));
    const again = await footwear('predict', '--model', model, big, '--jsonl', out, '--resume', '--ep', 'cpu');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /^wrote 1 rows to .*, after the 600 already there$/m);
    const final = parseJsonl(await readFile(out, 'utf8'));
    assert.equal(final.rows.length, 601);
    assert.equal(new Set(final.rows.map((r) => r.file)).size, 601);
    assert.equal(final.rows[600].file, path.join(big, 'copy 2', 'added later.jpg'));
  });

  test('--csv --resume continues a CSV cut mid-row: the rows it had are kept, the cut one is redone', { timeout: 180_000 }, async () => {
    const out = path.join(work, 'resume-csv', 'predictions.csv');
    const full = await footwear('predict', '--model', model, folder, '--csv', out, '--ep', 'cpu');
    assert.equal(full.code, 1, full.stderr);
    const complete = await readFile(out, 'utf8');
    const records = complete.split('\r\n').filter(Boolean);
    assert.equal(records.length, 26);
    // As if killed while writing row 10: its record is half there.
    const cut = records.slice(0, 10).join('\r\n').length + 2 + 15;
    await rename(out, `${out}.partial`);
    await truncate(`${out}.partial`, Buffer.byteLength(complete.slice(0, cut)));
    const resumed = await footwear('predict', '--model', model, folder, '--csv', out, '--resume', '--ep', 'cpu');
    assert.equal(resumed.code, 1, resumed.stderr);
    assert.match(resumed.stderr, /^resuming .*: 9 rows there already \(1 failed\)/m);
    assert.match(resumed.stderr, /^24 predicted, 1 failed/m);
    const again = (await readFile(out, 'utf8')).split('\r\n').filter(Boolean).map((r) => parseCsvRecord(r) ?? []);
    const before = records.map((r) => parseCsvRecord(r) ?? []);
    assert.deepEqual(again.map((r) => [r[0], r[1], r[3]]), before.map((r) => [r[0], r[1], r[3]]), 'same files, labels and errors, in the same order');
    for (const [i, row] of again.entries()) if (row[2] && i > 0) assert.ok(Math.abs(Number(row[2]) - Number(before[i][2])) < 1e-4, `${row[0]}: ${row[2]} vs ${before[i][2]}`);
  });

  test('--shard I/N: shards are disjoint, together they are the listing, and a shard is the same on every run', { timeout: 180_000 }, async () => {
    const whole = parseJsonl((await footwear('predict', '--model', model, folder, '--jsonl', '-', '--ep', 'cpu')).stdout);
    const shards: Row[][] = [];
    const skipped: number[] = [];
    for (let index = 0; index < 3; index++) {
      const r = await footwear('predict', '--model', model, folder, '--jsonl', '-', '--shard', `${index}/3`, '--ep', 'cpu');
      const { rows, summary } = parseJsonl(r.stdout);
      assert.deepEqual(summary?.shard, { index, count: 3 });
      shards.push(rows);
      skipped.push(summary?.skipped.total ?? -1);
    }
    const union = shards.flat().map((r) => r.file);
    assert.equal(union.length, whole.rows.length, 'nothing twice, nothing lost');
    assert.deepEqual(new Set(union), new Set(whole.rows.map((r) => r.file)));
    assert.equal(skipped.reduce((a, b) => a + b), 3, 'each skipped file is counted by one shard');
    assert.ok(shards.every((rows) => rows.length > 0), `sizes ${shards.map((s) => s.length)}`);
    const again = parseJsonl((await footwear('predict', '--model', model, folder, '--jsonl', '-', '--shard', '1/3', '--ep', 'cpu')).stdout);
    assert.deepEqual(again.rows.map((r) => r.file), shards[1].map((r) => r.file));
  });
});

describe('predict flags that cannot work say so in one line, before the model loads', () => {
  const cases: [string[], RegExp][] = [
    [['--resume'], /^footwear: --resume continues an output file: give --jsonl FILE or --csv FILE \(not -\)$/m],
    [['--resume', '--jsonl', '-'], /^footwear: --resume continues an output file/m],
    [['--jsonl', 'a.jsonl', '--json'], /^footwear: --jsonl and --json both print results; pick one/m],
    [['--jsonl', 'a.jsonl', '--csv', 'a.csv'], /^footwear: --jsonl and --csv both write the rows; pick one/m],
    [['--shard', '3/3'], /^footwear: --shard should be I\/N with 0 <= I < N \(0-based: --shard 0\/4 \.\.\. --shard 3\/4\), got "3\/3"$/m],
    [['--shard', 'half'], /^footwear: --shard should be I\/N/m],
  ];
  for (const [flags, expected] of cases) {
    test(flags.join(' '), async () => {
      // No such model: reaching the model would give another error.
      const r = await footwear('predict', '--model', path.join(work, 'no-model'), 'x.jpg', ...flags);
      assert.equal(r.code, 1);
      assert.match(r.stderr, expected);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }
});
