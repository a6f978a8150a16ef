import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { firstFiles, SHOES } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// Ordinary mistakes end in one `footwear:` line naming the flag, what was expected and what came,
// with exit code 1, never a stack trace (exit 70). Each runs the real CLI in a child process.

const BIN = path.resolve(fileURLToPath(import.meta.url), '../../bin/footwear.js');

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

function footwear(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    // The timeout only stops a server that wrongly started from holding the suite forever.
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 16 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/**
 * Exit 1 and the error as the last line on stderr, starting `footwear: `, matching `pattern`, and
 * no stack trace; `alone` when nothing else may be printed before it.
 */
function assertOneLine(r: Outcome, pattern: RegExp, alone = true): void {
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(r.code, 1, r.stderr);
  if (alone) assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.equal(lines.filter((l) => l.startsWith('footwear: ')).length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(lines.at(-1) ?? '', /^footwear: /);
  assert.match(lines.at(-1) ?? '', pattern);
}

function busyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

test('train --backbone with a path that is not a model names --backbone, what it takes and what came', async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'fw-backbone-err-'));
  const r = await footwear('train', '--data', path.join(SHOES, 'test'), '--out', out, '--backbone', 'resnet');
  assertOneLine(r, /--backbone should be 'mobilenet' .*or a TF\.js LayersModel.*got "resnet": resnet\/model\.json does not exist/);
});

test('train --backbone with a model.json that is not a model says it cannot be loaded', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-backbone-bad-'));
  await writeFile(path.join(dir, 'model.json'), '{ "not": "a model" ');
  const r = await footwear('train', '--data', path.join(SHOES, 'test'), '--out', path.join(dir, 'out'), '--backbone', dir, '--no-export');
  // Found only when loading it, after the dataset lines.
  assertOneLine(r, /--backbone should be .*model\.json cannot be loaded/, false);
});

test('serve on a port already in use names --port and fails before it says it listens', async () => {
  const model = await trainedModel();
  const { server, port } = await busyPort();
  try {
    const r = await footwear('serve', '--model', model, '--port', String(port));
    assertOneLine(r, new RegExp(`--port ${port}: 127\\.0\\.0\\.1:${port} is already in use.*another --port`));
  } finally {
    server.close();
  }
});

test('serve --host that does not resolve names --host', async () => {
  const r = await footwear('serve', '--model', await trainedModel(), '--port', '0', '--host', '0.0.0.0.1');
  assertOneLine(r, /--host should be an IP address or a host name that resolves .*got 0\.0\.0\.0\.1/);
});

test('serve --web with a missing folder names --web and what it expects', async () => {
  const r = await footwear('serve', '--model', await trainedModel(), '--port', '0', '--web', '/no/such/site');
  assertOneLine(r, /--web should be a folder written by `footwear web build`, got \/no\/such\/site: no such folder/);
});

test('serve with a bad --model fails before saying it listens', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fw-serve-badmodel-'));
  await writeFile(path.join(dir, 'model.onnx'), 'not a model');
  const missing = await footwear('serve', '--model', path.join(dir, 'nothing-here'), '--port', '0');
  assertOneLine(missing, /nothing-here: no such model file or folder/);
  const foreign = await footwear('serve', '--model', dir, '--port', '0');
  assertOneLine(foreign, /model\.onnx: not a valid ONNX model/);
});

test('serve --port out of range says which ports are valid', async () => {
  const r = await footwear('serve', '--model', await trainedModel(), '--port', '70000');
  assertOneLine(r, /--port should be an integer from 0 to 65535 .*got 70000/);
});

test("serve's ready line is a curl call that works; SIGTERM stops it with exit 0", async () => {
  const model = await trainedModel();
  const [photo] = await firstFiles(path.join(SHOES, 'test'), 1);
  const child = spawn(process.execPath, [BIN, 'serve', '--model', model, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const ready = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (text: string) => {
      stderr += text;
      const line = stderr.split('\n').find((l) => l.startsWith('ready: '));
      if (line) resolve(line);
    });
    child.on('close', () => reject(new Error(`serve exited before it was ready:\n${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    // ready: curl -H 'Content-Type: image/jpeg' --data-binary @photo.jpg http://127.0.0.1:PORT/v1/classify
    const m = ready.match(/^ready: curl -H '([^:]+): ([^']+)' --data-binary @photo\.jpg (http:\/\/127\.0\.0\.1:\d+\/v1\/classify)$/);
    assert.ok(m, ready);
    const response = await fetch(m[3], { method: 'POST', headers: { [m[1]]: m[2] }, body: new Uint8Array(await readFile(photo.file)) });
    assert.equal(response.status, 200);
    assert.ok(['Boot', 'Sandal', 'Shoe'].includes(((await response.json()) as { label: string }).label));
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /\nstopped\n$/);
});
