import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../src/serve/index.ts';
import type { AccessLogEntry } from '../src/serve/access-log.ts';
import { DEFAULT_OPEN_PATHS, isOpenPath } from '../src/serve/auth.ts';
import { SHARED_MISSING, SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';

// What a platform team needs before exposing `serve`: bearer tokens, a CORS allow-list, request
// ids and JSON access logs. A real server on loopback, the real model, real catalogue photos;
// only statuses, headers, bodies and log fields are asserted, never timing.

const BIN = path.resolve(fileURLToPath(import.meta.url), '../../bin/footwear.js');
const TOKENS = ['first-token-abc123', 'second.token_XYZ~789='];
const SHOP = 'https://shop.example.com';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FIELDS = ['time', 'id', 'method', 'route', 'path', 'status', 'images', 'queueMs', 'inferenceMs', 'totalMs', 'remote'];

let work = '';
let modelDir = '';
let tokenFile = '';
let photos: Uint8Array<ArrayBuffer>[] = [];

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'fw-edge-'));
  tokenFile = path.join(work, 'tokens');
  await writeFile(tokenFile, `# tokens for the catalogue team\n${TOKENS[0]}\n\n${TOKENS[1]}\r\n`);
  if (SHARED_MISSING) return;
  modelDir = await trainedModel();
  photos = await Promise.all((await firstFiles(path.join(SHOES, 'test'), 1)).map(async (f) => new Uint8Array(await readFile(f.file))));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const classify = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/classify`, { method: 'POST', body: photos[0], headers: { 'content-type': 'image/jpeg', ...headers } });

describe('serve behind auth, CORS, request ids and an access log', { skip: SHARED_MISSING }, () => {
  let server: RunningServer;
  const entries: AccessLogEntry[] = [];

  before(async () => {
    server = await startServer({ model: modelDir, port: 0, authTokenFile: tokenFile, corsOrigins: [SHOP, 'http://localhost:5173'], accessLog: (entry) => entries.push(entry) });
  });
  after(async () => {
    await server?.close();
  });

  /** The log entry of the answer that carried `id` (logged once the answer is sent). */
  async function entryOf(response: Response): Promise<AccessLogEntry> {
    await response.arrayBuffer();
    const id = response.headers.get('x-request-id');
    assert.ok(id, 'every answer carries x-request-id');
    for (let i = 0; i < 100 && !entries.some((e) => e.id === id); i++) await new Promise((resolve) => setImmediate(resolve));
    const found = entries.filter((e) => e.id === id);
    assert.equal(found.length, 1, `one log entry for ${id}`);
    return found[0];
  }

  test('no token: 401 with a Bearer challenge, the JSON error shape, and nothing classified', async () => {
    const response = await classify(server.url);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="footwear"');
    const body = (await response.clone().json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unauthorized');
    assert.match(body.error.message, /Authorization: Bearer/);
    const entry = await entryOf(response);
    assert.deepEqual([entry.status, entry.images, entry.route], [401, 0, '/v1/classify']);
  });

  test('a wrong token, or another scheme: 401 invalid_token; each listed token: 200', async () => {
    for (const headers of [bearer('first-token-abc124'), bearer(`${TOKENS[0]}x`), bearer(TOKENS[0].slice(0, -1)), { authorization: `Basic ${TOKENS[0]}` }]) {
      const response = await classify(server.url, headers);
      assert.equal(response.status, 401, headers.authorization);
      await response.arrayBuffer();
    }
    const wrong = await classify(server.url, bearer('nope'));
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="footwear", error="invalid_token"');
    await wrong.arrayBuffer();
    for (const token of TOKENS) {
      const response = await classify(server.url, bearer(token));
      assert.equal(response.status, 200, token);
      assert.ok(['Boot', 'Sandal', 'Shoe'].includes(((await response.json()) as { label: string }).label));
    }
    const lower = await classify(server.url, { authorization: `bearer ${TOKENS[1]}` });
    assert.equal(lower.status, 200, 'the scheme is case-insensitive');
    await lower.arrayBuffer();
  });

  test('probes and /metrics are open; the model description and unknown paths are not', async () => {
    for (const probe of ['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready', '/metrics']) {
      const response = await fetch(`${server.url}${probe}`);
      assert.equal(response.status, 200, probe);
      await response.arrayBuffer();
    }
    for (const closed of ['/v1/model', '/v2/models/x', '/nowhere', '/healthz/../v1/model', '/v2/health/%2e%2e/%2e%2e/v1/model']) {
      const response = await fetch(`${server.url}${closed}`);
      assert.equal(response.status, 401, closed);
      await response.arrayBuffer();
    }
  });

  test('CORS: a listed origin gets its preflight answered and may read answers (401s included); another origin may not', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/classify`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const allowed = await preflight(SHOP);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), SHOP);
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(allowed.headers.get('vary') ?? '', /Origin/);
    const other = await preflight('https://evil.example.com');
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    await other.arrayBuffer();

    const ok = await classify(server.url, { ...bearer(TOKENS[0]), origin: SHOP });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), SHOP);
    assert.match(ok.headers.get('access-control-expose-headers') ?? '', /x-request-id/i);
    await ok.arrayBuffer();
    const refused = await classify(server.url, { origin: SHOP });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('access-control-allow-origin'), SHOP, 'the page can read why it was refused');
    await refused.arrayBuffer();
    for (const origin of ['https://evil.example.com', `${SHOP}.evil.example.com`, 'http://shop.example.com']) {
      const response = await classify(server.url, { ...bearer(TOKENS[0]), origin });
      assert.equal(response.status, 200, origin);
      assert.equal(response.headers.get('access-control-allow-origin'), null, origin);
      await response.arrayBuffer();
    }
  });

  test('request ids: a sane X-Request-Id is echoed and logged, anything else is replaced by a fresh UUID', async () => {
    const given = await classify(server.url, { ...bearer(TOKENS[0]), 'x-request-id': 'gateway-7f3a:42' });
    assert.equal(given.headers.get('x-request-id'), 'gateway-7f3a:42');
    assert.equal((await entryOf(given)).id, 'gateway-7f3a:42');
    for (const insane of ['has space', 'x'.repeat(129), 'quote"d', 'new\tline']) {
      const response = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': insane } });
      assert.match(response.headers.get('x-request-id') ?? '', UUID, JSON.stringify(insane));
      await response.arrayBuffer();
    }
    const none = await fetch(`${server.url}/nowhere`, { headers: bearer(TOKENS[0]) });
    assert.equal(none.status, 404);
    const entry = await entryOf(none);
    assert.match(entry.id, UUID);
    assert.deepEqual([entry.route, entry.status, entry.path], ['unmatched', 404, '/nowhere']);
  });

  test('each access log entry has every field, with the status and image count of its request', async () => {
    const single = await classify(server.url, { ...bearer(TOKENS[0]) });
    assert.equal(single.status, 200);
    const one = await entryOf(single);
    assert.deepEqual([one.method, one.route, one.path, one.status, one.images], ['POST', '/v1/classify', '/v1/classify', 200, 1]);
    assert.ok(one.inferenceMs > 0, 'the model ran');
    assert.ok(one.queueMs >= 0 && one.totalMs + 0.02 >= one.queueMs + one.inferenceMs, JSON.stringify(one));

    const form = new FormData();
    for (const [i, bytes] of [photos[0], photos[1], photos[2]].entries()) form.append('files', new Blob([bytes], { type: 'image/jpeg' }), `photo ${i}.jpg`);
    form.append('files', new Blob(['not a photo'], { type: 'image/jpeg' }), 'notes.jpg');
    const batch = await fetch(`${server.url}/v1/classify/batch?top_k=1`, { method: 'POST', body: form, headers: bearer(TOKENS[1]) });
    assert.equal(batch.status, 200);
    const many = await entryOf(batch);
    assert.deepEqual([many.route, many.path, many.status, many.images], ['/v1/classify/batch', '/v1/classify/batch', 200, 4]);

    const probe = await entryOf(await fetch(`${server.url}/readyz`));
    assert.deepEqual([probe.route, probe.status, probe.images, probe.queueMs, probe.inferenceMs], ['/readyz', 200, 0, 0, 0]);

    for (const entry of entries) {
      assert.deepEqual(Object.keys(entry).sort(), [...FIELDS].sort());
      assert.ok(!Number.isNaN(Date.parse(entry.time)) && entry.time.endsWith('Z'), entry.time);
      assert.equal(entry.remote, '127.0.0.1');
      for (const field of ['status', 'images', 'queueMs', 'inferenceMs', 'totalMs'] as const) assert.ok(Number.isFinite(entry[field]) && entry[field] >= 0, `${field} ${entry[field]}`);
    }
  });
});

test('open paths: exact paths and prefixes ending in *, never through dot segments', () => {
  const open = [...DEFAULT_OPEN_PATHS];
  for (const path of ['/healthz', '/readyz', '/metrics', '/v2/health/live', '/v2/health/ready']) assert.ok(isOpenPath(path, open), path);
  for (const path of ['/healthz/', '/healthzx', '/metrics/x', '/v2/health', '/v1/model', '/', '/v2/health/../../v1/model', '/v2/health/%2e%2e/%2E%2E/v1/model', '/v2/health/./live']) {
    assert.ok(!isOpenPath(path, open), path);
  }
  assert.ok(!isOpenPath('/metrics', ['/healthz']), 'a list without /metrics closes it');
});

/** Runs `footwear serve`, resolving with its URL once it is ready. */
function serveCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /ready: .*?(http:\/\/[^/\s]+)\/v1\/classify/.exec(stderr)?.[1];
      if (url) resolve(url);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    // Never outlive the test: a server that does not say "ready" in time is stopped, and the test fails.
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not say ready within 100 s: ${stderr}`));
    }, 100_000).unref();
  });
  ready.catch(() => {}); // startup-error tests wait for the exit instead
  return { child, ready, stderr: () => stderr };
}

describe('footwear serve flags', { skip: SHARED_MISSING }, () => {
  test('--auth-token-file, --cors-origin and --access-log FILE: one JSON line per request, fields matching the answers', { timeout: 120_000 }, async () => {
    const log = path.join(work, 'access.log');
    const server = serveCli(['--model', modelDir, '--auth-token-file', tokenFile, '--cors-origin', SHOP, '--access-log', log]);
    try {
      const url = await server.ready;
      const statuses: [string, number][] = [];
      for (const [name, response] of [
        ['healthz', await fetch(`${url}/healthz`)],
        ['no token', await classify(url)],
        ['token', await classify(url, { ...bearer(TOKENS[0]), origin: SHOP, 'x-request-id': 'cli-check-1' })],
      ] as const) {
        statuses.push([response.headers.get('x-request-id') ?? '', response.status]);
        if (name === 'token') assert.equal(response.headers.get('access-control-allow-origin'), SHOP);
        await response.arrayBuffer();
      }
      assert.deepEqual(statuses.map(([, status]) => status), [200, 401, 200]);
      server.child.kill('SIGTERM');
      const [code] = await once(server.child, 'exit');
      assert.equal(code, 0, server.stderr());
      const lines = (await readFile(log, 'utf8')).trimEnd().split('\n');
      const logged = lines.map((line) => JSON.parse(line) as AccessLogEntry);
      assert.deepEqual(logged.map((e) => [e.id, e.status]), statuses);
      assert.deepEqual(logged.map((e) => e.images), [0, 0, 1]);
      assert.equal(logged[2].id, 'cli-check-1');
      for (const entry of logged) assert.deepEqual(Object.keys(entry).sort(), [...FIELDS].sort());
      assert.doesNotMatch(server.stderr(), /"route"/, 'access lines went to the file, not stderr');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  test('a missing or empty token file, a bad line, a bad origin or an unwritable log stops startup with one line naming the flag', { timeout: 120_000 }, async () => {
    const empty = path.join(work, 'empty-tokens');
    await writeFile(empty, '# nothing yet\n\n');
    const spaced = path.join(work, 'spaced-tokens');
    await writeFile(spaced, 'good-token\nhas a space\n');
    const cases: [string[], RegExp][] = [
      [['--auth-token-file', path.join(work, 'missing')], /^footwear: --auth-token-file .*missing: cannot read it \(no such file\); expected a file with one bearer token per line$/m],
      [['--auth-token-file', empty], /^footwear: --auth-token-file .*empty-tokens: holds no token; expected one bearer token per line$/m],
      [['--auth-token-file', spaced], /^footwear: --auth-token-file .*spaced-tokens: line 2 is not a bearer token/m],
      [['--cors-origin', 'https://shop.example.com/'], /^footwear: --cors-origin should be an origin like .*got "https:\/\/shop\.example\.com\/" \(did you mean https:\/\/shop\.example\.com\?\)$/m],
      [['--access-log', path.join(work, 'no', 'such', 'dir', 'log')], /^footwear: --access-log .*log: cannot append to it \(ENOENT\)/m],
    ];
    for (const [args, expected] of cases) {
      const server = serveCli(['--model', modelDir, ...args]);
      const [code] = await once(server.child, 'exit');
      assert.equal(code, 1, server.stderr());
      assert.match(server.stderr(), expected);
      assert.doesNotMatch(server.stderr(), /has a space|\n\s+at /, 'no token text, no stack');
    }
  });
});
