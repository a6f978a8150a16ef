import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startServer } from '../src/serve/index.ts';
import { mutatedJpegs } from '../fixtures/bad-inputs.ts';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// Hostile clients: a few hundred corrupted real JPEGs, eight at a time. Every request must get a
// 200 with a label or a JSON 4xx naming the problem, and the server must stay healthy after.
test('the server answers every mutated JPEG with a result or a JSON 4xx, and stays healthy', async () => {
  const model = await trainedModel();
  const sources = (await firstFiles(path.join(SHOES, 'test'), 4)).map((f) => f.file);
  const mutants = await mutatedJpegs(sources, 200, await mkdtemp(path.join(os.tmpdir(), 'fw-serve-fuzz-')), 11);
  const server = await startServer({ model, port: 0, maxQueue: 64 });
  const statuses = new Map<number, number>();
  try {
    let next = 0;
    const worker = async () => {
      while (next < mutants.length) {
        const mutant = mutants[next++];
        const body = await readFile(mutant.file);
        const response = await fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(body) });
        const json = (await response.json()) as { label?: string; error?: { code: string; message: string } };
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 200) assert.ok(['Boot', 'Sandal', 'Shoe'].includes(json.label ?? ''), `${mutant.file}: ${JSON.stringify(json)}`);
        else {
          assert.ok([400, 413, 415, 422].includes(response.status), `${mutant.file}: status ${response.status}`);
          assert.ok(json.error?.code && json.error.message, `${mutant.file}: ${JSON.stringify(json)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    assert.equal(answered, mutants.length);
    assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, `status mix ${JSON.stringify([...statuses])}`);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const good = await fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(await readFile(sources[0])) });
    assert.equal(good.status, 200, 'a good photo still works after the storm');
  } finally {
    await server.close();
  }
});
