import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { defaultPreprocess, isFailure, type ModelSpec, type OnnxSession } from '../src/core/index.ts';
import { describeInputs, expandInputs, listInputs, parseShard, shardOf, walkEntries, type ListedEntry } from '../src/data/index.ts';
import { Classifier, loadModel, type FileEntry } from '../src/node/index.ts';
import { compareListed, DoneFiles, scanOutput } from '../src/cli/resume.ts';
import { SHARED_MISSING, SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// The streaming path of predict, below the command line: the classifier over an async source,
// the lazy folder walk, shards, skipped files, and the merge that --resume relies on.

let work = '';
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'fw-stream-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

async function* slowly<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise((resolve) => setImmediate(resolve));
    yield item;
  }
}

/** A session that answers at once with the same scores: the classifier's own work, without a model's. */
function fakeSession(labels: number): OnnxSession & { runs: number } {
  return {
    inputNames: ['input'],
    outputNames: ['probs'],
    executionProvider: 'cpu',
    runs: 0,
    async run(_input, dims) {
      this.runs++;
      const data = new Float32Array(dims[0] * labels);
      for (let i = 0; i < data.length; i++) data[i] = (i % labels) === 0 ? 0.5 : 0.5 / (labels - 1);
      return { data, dims: [dims[0], labels] };
    },
    async runOutputs() {
      throw new Error('not used');
    },
    async release() {},
  };
}

const FAKE_SPEC: ModelSpec = {
  format: 'footwear/1',
  labels: ['Boot', 'Sandal', 'Shoe'],
  preprocess: defaultPreprocess({ height: 32, width: 32 }),
  inputName: 'input',
  outputName: 'probs',
};

describe('Classifier.classifyStream', { skip: SHARED_MISSING }, () => {
  test('gives the same results, in the same order, as classifyFiles on real photos (failures in place)', { timeout: 300_000 }, async () => {
    const classifier = await loadModel(await trainedModel(), { ep: 'cpu' });
    try {
      const photos = (await firstFiles(path.join(SHOES, 'test'), 12)).map((p) => p.file);
      const broken = path.join(work, 'broken.jpg');
      await writeFile(broken, 'not a photo');
      const files = [...photos.slice(0, 10), broken, ...photos.slice(10), path.join(work, 'missing.jpg')];
      const listingFailure: FileEntry = { file: path.join(work, 'pipe.jpg'), error: { code: 'unreadable', message: 'not a regular file' } };
      const array = await collect(classifier.classifyFiles(files, { batchSize: 8, preprocessWorkers: 1 }));
      const streamed = await collect(classifier.classifyStream(slowly(files), { batchSize: 8, preprocessWorkers: 1 }));
      assert.equal(array.length, 38);
      assert.deepEqual(streamed, array);
      assert.deepEqual(array.filter(isFailure).map((r) => r.file), [broken, path.join(work, 'missing.jpg')]);
      assert.ok(array.filter((r) => !isFailure(r)).every((r) => !isFailure(r) && r.topK.length === 3));
      // A failure from the listing passes through at its place.
      const mixed = await collect(classifier.classifyStream(slowly([...files.slice(0, 20), listingFailure, ...files.slice(20)]), { batchSize: 8, preprocessWorkers: 1 }));
      assert.deepEqual(mixed, [...array.slice(0, 20), listingFailure, ...array.slice(20)]);
      // A list of a batch or less runs without workers, and an empty source yields nothing.
      assert.deepEqual(await collect(classifier.classifyStream(slowly(files.slice(0, 3)))), array.slice(0, 3));
      assert.deepEqual(await collect(classifier.classifyStream(slowly([]))), []);
    } finally {
      await classifier.release();
    }
  });

  test('over a generated listing of 1,500 links, the source is read only a few batches ahead of the results', { timeout: 300_000 }, async () => {
    const root = path.join(work, 'catalogue');
    const photos = (await firstFiles(path.join(SHOES, 'test'), 1)).map((p) => p.file);
    for (let folder = 0; folder < 15; folder++) {
      await mkdir(path.join(root, `f${String(folder).padStart(2, '0')}`), { recursive: true });
      for (let i = 0; i < 100; i++) await symlink(photos[i % photos.length], path.join(root, `f${String(folder).padStart(2, '0')}`, `p${String(i).padStart(3, '0')}.jpg`));
    }
    const session = fakeSession(3);
    const classifier = new Classifier(session, FAKE_SPEC, 'fake.onnx');
    let pulled = 0;
    let yielded = 0;
    let mostAhead = 0;
    async function* counted(): AsyncGenerator<FileEntry> {
      for await (const entry of listInputs([root])) {
        pulled++;
        yield entry.file;
      }
    }
    const batchSize = 8;
    const files: string[] = [];
    try {
      for await (const result of classifier.classifyStream(counted(), { batchSize, preprocessWorkers: 1 })) {
        yielded++;
        mostAhead = Math.max(mostAhead, pulled - yielded);
        assert.ok(!isFailure(result), isFailure(result) ? result.error.message : '');
        files.push(result.file);
      }
    } finally {
      await classifier.release();
    }
    assert.equal(yielded, 1500);
    assert.equal(session.runs, Math.ceil(1500 / batchSize));
    assert.deepEqual(files, await expandInputs([root]), 'every file once, in listing order');
    // One batch being taken, two batches (the lookahead) in preparation, one pull in flight.
    assert.ok(mostAhead <= batchSize * 3 + 1, `the source ran ${mostAhead} entries ahead of the results`);
  });
});

describe('the folder walk', () => {
  test('is lazy: a folder is listed when the walk gets to it, not before', async () => {
    const root = path.join(work, 'lazy');
    await mkdir(path.join(root, 'a'), { recursive: true });
    await mkdir(path.join(root, 'b'), { recursive: true });
    await writeFile(path.join(root, 'a', '1.jpg'), '');
    const walk = walkEntries(root);
    assert.deepEqual((await walk.next()).value, { kind: 'image', file: path.join(root, 'a', '1.jpg') });
    // Written after the walk started: found only if folder b had not been read yet.
    await writeFile(path.join(root, 'b', '2.jpg'), '');
    assert.deepEqual((await walk.next()).value, { kind: 'image', file: path.join(root, 'b', '2.jpg') });
    assert.equal((await walk.next()).done, true);
  });

  test('reports files whose names are not images, and lists errors in place', async () => {
    const root = path.join(work, 'skips');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    for (const name of ['a.jpg', 'drawing.svg', 'README', 'sub/b.PNG', 'sub/notes.txt', 'sub/.DS_Store']) await writeFile(path.join(root, name), '');
    await symlink(path.join(root, 'gone.jpg'), path.join(root, 'broken.jpg'));
    const skipped: string[] = [];
    const listed = await collect(listInputs([root], { onSkip: (file, extension) => skipped.push(`${path.relative(root, file)} ${extension}`) }));
    assert.deepEqual(
      listed.map((e) => [e.relative, e.error ?? '']),
      [
        ['a.jpg', ''],
        ['broken.jpg', 'broken symbolic link'],
        ['sub/b.PNG', ''],
      ],
    );
    assert.deepEqual(skipped.sort(), ['README ', 'drawing.svg .svg', 'sub/.DS_Store ', 'sub/notes.txt .txt']);
  });
});

describe('shards', () => {
  let root = '';
  before(async () => {
    root = path.join(work, 'shards');
    for (let folder = 0; folder < 4; folder++) {
      await mkdir(path.join(root, `d${folder}`), { recursive: true });
      for (let i = 0; i < 50; i++) await writeFile(path.join(root, `d${folder}`, `photo (${i}).jpg`), '');
      await writeFile(path.join(root, `d${folder}`, 'notes.txt'), '');
    }
    await symlink(path.join(root, 'nowhere.jpg'), path.join(root, 'd0', 'broken.jpg'));
  });

  test('0..N-1 are disjoint, cover the listing (errors and skipped files too), and are the same on every run and mount', async () => {
    const all = await collect(listInputs([root]));
    assert.equal(all.length, 201);
    const mount = path.join(work, 'elsewhere');
    await symlink(root, mount);
    for (const count of [1, 3, 7]) {
      const shards: ListedEntry[][] = [];
      const skipped: string[][] = [];
      for (let index = 0; index < count; index++) {
        const skips: string[] = [];
        shards.push(await collect(listInputs([root], { shard: { index, count }, onSkip: (file) => skips.push(file) })));
        skipped.push(skips);
        // Another run, through another mount point: the same files by their path below the folder.
        const again = await collect(listInputs([mount], { shard: { index, count } }));
        assert.deepEqual(again.map((e) => e.relative), shards[index].map((e) => e.relative), `shard ${index}/${count} again`);
      }
      const union = shards.flat();
      assert.equal(union.length, all.length, `${count} shards: nothing listed twice or lost`);
      assert.deepEqual(new Set(union.map((e) => e.file)), new Set(all.map((e) => e.file)));
      assert.deepEqual(skipped.flat().sort(), [0, 1, 2, 3].map((d) => path.join(root, `d${d}`, 'notes.txt')));
      if (count > 1) assert.ok(shards.every((s) => s.length > 0 && s.length < all.length), `${count} shards: ${shards.map((s) => s.length)}`);
    }
    assert.equal(shardOf('d0/photo (1).jpg', 7), shardOf('d0/photo (1).jpg', 7));
  });

  test('parseShard takes I/N with 0 <= I < N and nothing else', () => {
    assert.deepEqual(parseShard('2/8'), { index: 2, count: 8 });
    assert.deepEqual(parseShard('0/1'), { index: 0, count: 1 });
    for (const bad of ['8/8', '1/0', '-1/4', '1', 'a/b', '1/4/2', '']) assert.equal(parseShard(bad), undefined, bad);
  });
});

describe('--resume reads an output alongside the listing', () => {
  const names = ['a.jpg', 'a b.jpg', 'a/x.jpg', 'a-b/y.jpg', 'B.jpg', 'z (10).jpg', 'z (9).jpg', 'é.jpg'];
  let root = '';
  before(async () => {
    root = path.join(work, 'order');
    for (const name of names) {
      await mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await writeFile(path.join(root, name), '');
    }
  });

  test('compareListed sorts paths the way the folder walk lists them', async () => {
    const walked = (await collect(listInputs([root]))).map((e) => e.relative);
    const sorted = [...walked].reverse().sort((a, b) => compareListed({ input: 0, relative: a }, { input: 0, relative: b }));
    assert.deepEqual(sorted, walked);
    assert.deepEqual(walked.slice(0, 3), ['B.jpg', 'a/x.jpg', 'a b.jpg'], 'a folder sorts at its name, before "a b.jpg"');
  });

  test('rows in two ordered runs (a resumed run that appended new files) are all found, once, in constant memory', async () => {
    const roots = await describeInputs([root]);
    const listed = await collect(listInputs([root]));
    const row = (e: ListedEntry) => JSON.stringify({ file: e.file, label: 'Boot', score: 1, topK: [] });
    // A first run wrote every other file, a resumed run appended the rest, then a cut-short line.
    const first = listed.filter((_, i) => i % 2 === 0);
    const second = listed.filter((_, i) => i % 2 === 1);
    const output = path.join(work, 'runs.jsonl');
    await writeFile(output, [...first.map(row), JSON.stringify({ summary: {} }), ...second.map(row), '{"file":"cut'].join('\n'));
    const scan = await scanOutput(output, 'jsonl', roots, '--jsonl');
    assert.equal(scan.rows, listed.length);
    assert.equal(scan.runs.length, 2);
    const done = await DoneFiles.open(output, 'jsonl', scan, roots);
    const found: boolean[] = [];
    for (const entry of listed) found.push(await done.has(entry));
    await done.close();
    assert.deepEqual(found, listed.map(() => true));
    // Offsets are in bytes (é takes two).
    assert.equal((await readFile(output)).subarray(scan.keep).toString(), '{"file":"cut', 'the cut-short line is not kept');
  });

  test('a file that is not a predict output is refused with one line naming it', async () => {
    const output = path.join(work, 'not-ours.csv');
    await writeFile(output, 'name,size\r\nx.jpg,1\r\n');
    await assert.rejects(scanOutput(output, 'csv', await describeInputs([work]), '--csv'), (error: Error) => {
      assert.equal(error.name, 'UsageError');
      assert.match(error.message, /^--csv .*not-ours\.csv: cannot resume: record 1 is not a footwear predict row \(the header is not file,label,score,error\)/);
      return true;
    });
  });
});
