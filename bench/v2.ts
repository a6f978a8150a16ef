// KServe v2 costs. (1) The remote runtime: the same JPEG uploads to POST /v1/classify, sent by the
// same closed-loop client (autocannon: each connection sends its next request when the last is
// answered), first to server A alone, then to server B started with --runtime v2://A, which
// decodes and resizes and sends A binary tensors. (2) The tensor encodings: one batch of 8
// preprocessed images sent to A's POST /v2/models/NAME/infer as JSON and as binary tensor data,
// one request at a time: wall time and CPU per request, the server's and the client's.
// Rewrites the "## Server: KServe v2 and the remote runtime" section of BENCHMARKS.md.
// Usage: node --import tsx bench/v2.ts [--model DIR] [--duration 10] [--concurrency 8,32] [--requests 20] [--images 300] [--out BENCHMARKS.md] [--dry-run]
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { encodeInferRequest, type ModelSpec } from '../src/core/index.ts';
import { prepareFile, readModelFile, resolveModelFile } from '../src/node/index.ts';
import { specFromModel } from '../src/core/index.ts';
import type { ServeOptions } from '../src/serve/index.ts';
import { SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import { quantile } from './stats.ts';
import { machine, writeSection } from './sections.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8,32' },
    requests: { type: 'string', default: '20' },
    images: { type: 'string', default: '300' },
    out: { type: 'string', default: path.join(import.meta.dirname, '..', 'BENCHMARKS.md') },
    'dry-run': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.duration);
const levels = values.concurrency.split(',').map(Number);
const requests = Number(values.requests);
if (!(seconds > 0 && seconds <= 60) || levels.some((c) => !(c >= 1 && c <= 256)) || !(requests >= 1)) throw new Error('--duration must be 1..60 s, each concurrency 1..256, --requests >= 1');

const HEADING = '## Server: KServe v2 and the remote runtime';
const BATCH = 8;

const model = values.model ?? (await trainedModel());
const modelFile = await resolveModelFile(model);
const spec: ModelSpec = specFromModel(await readModelFile(modelFile), modelFile);
const perClass = Math.ceil(Number(values.images) / 3);
const byClass = await firstFiles(path.join(SHOES, 'test'), perClass);
// Interleaved classes, so every stretch of requests mixes boots, sandals and shoes.
const files = byClass.map((_, i) => byClass[(i % 3) * perClass + Math.floor(i / 3)]?.file).filter((f): f is string => Boolean(f));
const bodies = await Promise.all(files.map((f) => readFile(f)));

interface Child {
  url: string;
  stop: () => Promise<void>;
}

/** A server in a process of its own (bench/server-child.ts), so the load generator does not share its event loop. */
async function startChild(options: Partial<ServeOptions>): Promise<Child> {
  const script = path.join(import.meta.dirname, 'server-child.ts');
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), script, JSON.stringify({ model, ...options })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([once(lines, 'line'), exited.then(() => [undefined])])) as [string | undefined];
  if (!line) throw new Error('a server process exited before it was ready');
  return {
    url: (JSON.parse(line) as { url: string }).url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A counter or gauge from a server's /metrics (process CPU, batch sizes). */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

const cpuSeconds = (url: string) => metric(url, 'footwear_process_cpu_seconds_total');

interface LoadResult {
  rate: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  ok: number;
}

/** Closed loop: `concurrency` connections, each sending the next photo once its last one is answered. */
function load(url: string, concurrency: number, duration: number): Promise<LoadResult> {
  let next = 0;
  const times: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: concurrency,
        duration,
        requests: [{ method: 'POST', path: '/v1/classify', headers: { 'content-type': 'image/jpeg' }, setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }],
      },
      (error, result) => {
        if (error) return reject(error);
        times.sort((a, b) => a - b);
        resolve({ rate: result['2xx'] / result.duration, p50: quantile(times, 0.5), p99: quantile(times, 0.99), non2xx: result.non2xx, errors: result.errors, ok: result['2xx'] });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status === 200) times.push(ms);
    });
  });
}

interface RemoteRow extends LoadResult {
  path: string;
  concurrency: number;
  cpuMsPerImage: number;
}

async function remoteRows(a: Child, b: Child): Promise<RemoteRow[]> {
  const rows: RemoteRow[] = [];
  for (const concurrency of levels) {
    for (const [label, target] of [
      ['client -> A (A decodes and runs the model)', a.url],
      ['client -> B -> A (B decodes, A runs the model)', b.url],
    ] as const) {
      const cpu0 = (await cpuSeconds(a.url)) + (await cpuSeconds(b.url));
      const result = await load(target, concurrency, seconds);
      const cpu1 = (await cpuSeconds(a.url)) + (await cpuSeconds(b.url));
      rows.push({ path: label, concurrency, ...result, cpuMsPerImage: ((cpu1 - cpu0) * 1000) / Math.max(1, result.ok) });
      console.error(`${label}, ${concurrency} connections: ${result.rate.toFixed(1)} images/s, p99 ${result.p99.toFixed(1)} ms`);
    }
  }
  return rows;
}

interface EncodingRow {
  encoding: string;
  bodyMb: number;
  msMean: number;
  msP50: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

function postInfer(agent: http.Agent, url: URL, parts: Uint8Array[], headers: Record<string, string | number>): Promise<number> {
  return new Promise((resolve, reject) => {
    const length = parts.reduce((n, p) => n + p.byteLength, 0);
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': length } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => (response.statusCode === 200 ? resolve(Buffer.concat(chunks).length) : reject(new Error(`${response.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`))));
      response.on('error', reject);
    });
    request.on('error', reject);
    for (const part of parts) request.write(part);
    request.end();
  });
}

/** One batch of 8 sent `requests` times, one at a time, as JSON and as binary; the client encodes each request anew, as a client would. */
async function encodingRows(a: Child, name: string): Promise<EncodingRow[]> {
  const { height, width } = spec.preprocess;
  const batch = new Float32Array(BATCH * height * width * 3);
  for (let i = 0; i < BATCH; i++) {
    const prepared = await prepareFile(files[i], spec.preprocess);
    if (!('input' in prepared)) throw new Error(`${files[i]}: ${prepared.error.message}`);
    batch.set(prepared.input, i * height * width * 3);
  }
  const url = new URL(`${a.url}/v2/models/${name}/infer`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const rows: EncodingRow[] = [];
  for (const binary of [true, false]) {
    const encode = () => {
      const encoded = encodeInferRequest(
        { inputs: [{ name: spec.inputName, datatype: 'FP32', shape: [BATCH, height, width, 3], data: batch }], outputs: [{ name: spec.outputName, parameters: { binary_data: binary } }] },
        () => binary,
      );
      const headers: Record<string, string | number> = binary ? { 'content-type': 'application/octet-stream', 'inference-header-content-length': encoded.headerLength as number } : { 'content-type': 'application/json' };
      return { encoded, headers };
    };
    for (let i = 0; i < 2; i++) await postInfer(agent, url, encode().encoded.parts, encode().headers); // warm-up, not reported
    const times: number[] = [];
    let bodyBytes = 0;
    const server0 = await cpuSeconds(a.url);
    const client0 = process.cpuUsage();
    for (let i = 0; i < requests; i++) {
      const start = performance.now();
      const { encoded, headers } = encode();
      bodyBytes = encoded.byteLength;
      await postInfer(agent, url, encoded.parts, headers);
      times.push(performance.now() - start);
    }
    const client = process.cpuUsage(client0);
    const server1 = await cpuSeconds(a.url);
    times.sort((x, y) => x - y);
    rows.push({
      encoding: binary ? 'binary tensor data' : 'JSON',
      bodyMb: bodyBytes / 1e6,
      msMean: times.reduce((s, t) => s + t, 0) / times.length,
      msP50: quantile(times, 0.5),
      serverCpuMs: ((server1 - server0) * 1000) / requests,
      clientCpuMs: (client.user + client.system) / 1000 / requests,
    });
    console.error(`${binary ? 'binary' : 'JSON'}: ${rows.at(-1)?.msMean.toFixed(1)} ms per request`);
  }
  agent.destroy();
  return rows;
}

const loadAtStart = os.loadavg()[0];
// A takes JSON batches of 8 (about 24 MB) for part 2; B's batches of 16 are 9.6 MB binary.
const a = await startChild({ maxBodyBytes: 64 * 1024 * 1024 });
const name = ((await (await fetch(`${a.url}/v1/model`)).json()) as { model: string }).model;
const runtime = `v2://${new URL(a.url).host}/${name}`;
const b = await startChild({ runtime });
let remote: RemoteRow[];
let encodings: EncodingRow[];
try {
  await load(a.url, 8, Math.min(2, seconds)); // warm-up, not reported
  await load(b.url, 8, Math.min(2, seconds));
  remote = await remoteRows(a, b);
  encodings = await encodingRows(a, name);
} finally {
  await b.stop();
  await a.stop();
}
const loadAtEnd = os.loadavg()[0];

const args = process.argv.slice(2);
const remoteTable = [
  '| path | connections | images/s | p50 ms | p99 ms | non-2xx | errors | CPU ms per image (A + B) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...remote.map((r) => `| ${r.path} | ${r.concurrency} | ${r.rate.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.non2xx} | ${r.errors} | ${r.cpuMsPerImage.toFixed(1)} |`),
].join('\n');
const encodingTable = [
  '| tensor encoding | request body MB | ms per request (mean) | ms per request (p50) | server CPU ms per request | client CPU ms per request |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...encodings.map((e) => `| ${e.encoding} | ${e.bodyMb.toFixed(1)} | ${e.msMean.toFixed(1)} | ${e.msP50.toFixed(1)} | ${e.serverCpuMs.toFixed(1)} | ${e.clientCpuMs.toFixed(1)} |`),
].join('\n');
const ratio = (label: string, c: number) => remote.find((r) => r.path.startsWith(label) && r.concurrency === c);
const summary = levels
  .map((c) => {
    const [alone, via] = [ratio('client -> A', c), ratio('client -> B', c)];
    return alone && via ? `${c} connections: ${(via.rate / alone.rate).toFixed(2)}x the rate, p99 ${(via.p99 / alone.p99).toFixed(2)}x` : '';
  })
  .filter(Boolean)
  .join('; ');
const [binaryRow, jsonRow] = encodings;
const section = `What the KServe v2 paths cost, on loopback. **Remote runtime**: the same ${files.length} JPEGs from
\`../shared/data/shoe-sandal-boot/test\` POSTed to \`/v1/classify\` by the same closed-loop client (autocannon; each connection
sends its next photo when the last one is answered) for ${seconds} s per row: to server A alone, and to server B started with
\`--runtime v2://127.0.0.1:PORT/NAME\`, which decodes and resizes and sends A batches of binary FP32 tensors. A, B and the
client are three processes on the same cores, so B's decoding and A's inference compete for them (on a real deployment B runs
on CPU replicas and A is Triton on GPUs). "CPU ms per image" is A's and B's process CPU (\`footwear_process_cpu_seconds_total\`)
per answered image. **Tensor encodings**: one batch of ${BATCH} preprocessed photos sent ${requests} times, one at a time, to A's
\`POST /v2/models/NAME/infer\` as JSON and as binary tensor data, the client encoding each request anew.

- machine: ${machine()}; 1-minute load average ${loadAtStart.toFixed(1)} at the start and ${loadAtEnd.toFixed(1)} at the end: the machine was shared with other jobs (tests and builds of other work) while this ran, so the rates are lower and the latencies higher than the machine alone would give; compare the rows with each other, not with other sections
- date: ${new Date().toISOString()}
- command: \`npm run bench:v2${args.length ? ` -- ${args.join(' ')}` : ''}\`
- servers: A \`footwear serve\` with defaults (1 worker, max-batch 16, max-delay-ms 5) but \`--max-body-bytes 67108864\` for the JSON batches; B the same model with \`--runtime v2://A\`

${remoteTable}

Remote runtime against A alone: ${summary}.

${encodingTable}

Binary tensor data against JSON for a batch of ${BATCH}: ${(jsonRow.msMean / binaryRow.msMean).toFixed(1)}x less time per request, ${(jsonRow.serverCpuMs / binaryRow.serverCpuMs).toFixed(1)}x less server CPU,
${(jsonRow.clientCpuMs / binaryRow.clientCpuMs).toFixed(1)}x less client CPU and ${(jsonRow.bodyMb / binaryRow.bodyMb).toFixed(1)}x fewer bytes: the remote runtime always sends binary.
`;
process.stdout.write(`${section}\n`);
if (!values['dry-run']) {
  await writeSection(HEADING, section, values.out);
  console.error(`wrote the "${HEADING.slice(3)}" section of ${values.out}`);
}
