import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import { acceptedEncodings, buildWebSite, contentType, isPrecompressed, SITE_MANIFEST, type BuiltSite } from '../src/web/index.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// What a built site holds (only what the page can load, precompressed) and how serve --web sends it.

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET: node:http neither asks for nor undoes compression, so the bytes are as sent. */
function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('built web site', () => {
  let work: string;
  let site: BuiltSite;
  let server: RunningServer;

  before(async () => {
    const model = await trainedModel();
    work = await mkdtemp(path.join(os.tmpdir(), 'footwear-web-site-'));
    site = await buildWebSite({ model, out: path.join(work, 'site') });
    server = await startServer({ model, port: 0, web: site.out });
  });

  after(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('ships only the ONNX Runtime files the page bundle loads, and lists every file in the manifest', async () => {
    const bundle = (await Promise.all(site.files.filter((f) => f.startsWith('assets/') && f.endsWith('.js')).map((f) => readFile(path.join(site.out, f), 'utf8')))).join('\n');
    const ort = site.files.filter((f) => f.startsWith('ort/') && !isPrecompressed(f));
    assert.ok(ort.length >= 2, ort.join(', '));
    for (const file of ort) {
      const loader = path.posix.basename(file).replace(/\.wasm$/, '.mjs');
      assert.ok(bundle.includes(loader), `${file}: no bundle chunk loads ${loader}`);
    }
    const manifest = JSON.parse(await readFile(path.join(site.out, SITE_MANIFEST), 'utf8')) as { files: string[] };
    assert.deepEqual([...manifest.files, SITE_MANIFEST].sort(), site.files);
  });

  test('every .br and .gz decompresses to its file, and the big files have one', async () => {
    const copies = site.files.filter(isPrecompressed);
    for (const big of ['model.onnx', ...site.files.filter((f) => /^ort\/.*\.(wasm|mjs)$/.test(f))]) {
      assert.ok(copies.includes(`${big}.br`) || copies.includes(`${big}.gz`), `${big} has a compressed copy`);
    }
    for (const copy of copies) {
      const original = copy.replace(/\.(br|gz)$/, '');
      assert.ok(site.files.includes(original), copy);
      const packed = await readFile(path.join(site.out, copy));
      const plain = await readFile(path.join(site.out, original));
      assert.ok(packed.length < plain.length, `${copy} is smaller than ${original}`);
      assert.ok((copy.endsWith('.br') ? brotliDecompressSync(packed) : gunzipSync(packed)).equals(plain), `${copy} decompresses to ${original}`);
    }
    // The wasm path: ORT's 14 MB wasm alone is more than three times what the whole page downloads compressed.
    assert.ok(site.sizes.download.wasm < 8e6 && site.sizes.download.webgpu < 10e6, JSON.stringify(site.sizes));
  });

  test('serve --web sends the precompressed copy a client accepts, and the plain file to one that accepts none', async () => {
    const file = site.files.find((f) => /^ort\/ort-wasm-simd-threaded\.wasm$/.test(f));
    assert.ok(file);
    const plain = await readFile(path.join(site.out, file));
    const url = `${server.url}/${file}`;

    const br = await get(url, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['content-type'], contentType(file));
    assert.equal(br.headers.vary, 'Accept-Encoding');
    assert.equal(br.headers['content-length'], String(br.body.length));
    assert.equal(br.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.ok(br.body.length < plain.length / 3);
    assert.ok(brotliDecompressSync(br.body).equals(plain));

    const gz = await get(url, { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(gz.body).equals(plain));

    const plainClients: Record<string, string>[] = [{}, { 'accept-encoding': 'identity' }, { 'accept-encoding': 'br;q=0, gzip;q=0' }];
    for (const headers of plainClients) {
      const none = await get(url, headers);
      assert.equal(none.status, 200);
      assert.equal(none.headers['content-encoding'], undefined, JSON.stringify(headers));
      assert.equal(none.headers['content-length'], String(plain.length));
      assert.equal(none.headers.vary, 'Accept-Encoding');
      assert.ok(none.body.equals(plain));
    }

    // A file too small to compress is sent as it is, and paths outside the site stay refused.
    const manifest = await get(`${server.url}/${SITE_MANIFEST}`, { 'accept-encoding': 'br' });
    assert.equal(manifest.headers['content-encoding'], undefined);
    assert.equal((await get(`${server.url}/%2e%2e/%2e%2e/etc/passwd`, { 'accept-encoding': 'br' })).status, 404);
  });

  test('Accept-Encoding is read with its q-values', () => {
    assert.deepEqual(acceptedEncodings('gzip, deflate, br'), ['br', 'gzip']);
    assert.deepEqual(acceptedEncodings('br;q=0, gzip;q=0.5'), ['gzip']);
    assert.deepEqual(acceptedEncodings('*'), ['br', 'gzip']);
    assert.deepEqual(acceptedEncodings('*;q=0, gzip'), ['gzip']);
    assert.deepEqual(acceptedEncodings('identity'), []);
    assert.deepEqual(acceptedEncodings(undefined), []);
  });
});
