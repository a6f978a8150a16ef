import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { SHOES, firstFiles } from '../fixtures/shared-data.ts';
import { trainedModel } from '../fixtures/trained-model.ts';
import {
  BIN,
  ROOT,
  effectiveInstructions,
  execForm,
  flagValue,
  list,
  map,
  readDeployYaml,
  readDockerfile,
  remap,
  startServe,
  withFlag,
  type Dockerfile,
  type ServeProcess,
  type YamlFile,
} from './helpers-deploy.ts';
import { scrape } from './helpers-metrics.ts';
import { parseYamlDocuments, type YamlMap, type YamlValue } from './helpers-yaml.ts';

// deploy/ and the Dockerfile, read as data and checked against each other and against the real
// program: `footwear serve` is started through the CLI with the Deployment's and the image's own
// arguments (paths moved onto local folders, port 0, loopback), its probe paths and /metrics are
// requested, and the Job's predict arguments classify real photos.

interface Manifest extends YamlMap {
  apiVersion: string;
  kind: string;
  metadata: YamlMap & { name: string };
}

let files: YamlFile[] = [];
let manifests: (Manifest & { file: string })[] = [];
let docker: Dockerfile;

function one(kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? ` ${name}` : ''} in deploy/`);
  return found[0];
}

const deployment = () => one('Deployment', 'footwear');
const podSpec = (workload: Manifest) => map(workload, 'spec', 'template', 'spec');
const container = (workload: Manifest) => map(podSpec(workload), 'containers', 0);
const args = (workload: Manifest) => list(container(workload), 'args') as string[];
const adapterRule = () => map(at0(files.find((f) => f.file === path.join('deploy', 'prometheus-adapter', 'values.yaml'))), 'rules', 'custom', 0);
const at0 = (file: YamlFile | undefined) => {
  assert.ok(file, 'deploy/prometheus-adapter/values.yaml exists');
  return file.documents[0];
};

/** Every selector label has the same value among `labels`. */
function selects(selector: YamlMap, labels: YamlMap): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Kubernetes CPU quantity ("2", "1500m") in cores. */
function cores(quantity: YamlValue): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

/** Kubernetes memory quantity in MiB (the binary suffixes used here). */
function mebibytes(quantity: YamlValue): number {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi)$/.exec(String(quantity));
  assert.ok(m, `memory ${String(quantity)} in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** Where the Deployment or Job mounts each volume -> a local folder for it, made by `make`. */
function mountsOf(workload: Manifest, local: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const mount of list(container(workload), 'volumeMounts') as YamlMap[]) {
    const name = mount.name as string;
    if (local[name]) out[mount.mountPath as string] = local[name];
  }
  return out;
}

/** The serve arguments, moved onto this machine: local model folder, port 0, loopback only. */
function localServeArgs(serveArgs: string[], mounts: Record<string, string>): string[] {
  assert.equal(serveArgs[0], 'serve');
  return withFlag(withFlag(remap(serveArgs, mounts), '--port', '0'), '--host', '127.0.0.1');
}

before(async () => {
  files = await readDeployYaml();
  manifests = files
    .filter((f) => !f.file.startsWith(path.join('deploy', 'prometheus-adapter')))
    .flatMap((f) => f.documents.map((d) => ({ ...(d as Manifest), file: f.file })));
  docker = await readDockerfile();
});

describe('deploy/ manifests, read as data', () => {
  test('every YAML file parses (strict subset) and every manifest has apiVersion, kind and a name', () => {
    assert.ok(files.length >= 5, `found ${files.map((f) => f.file).join(', ')}`);
    for (const m of manifests) {
      assert.equal(typeof m.apiVersion, 'string', `${m.file}: apiVersion`);
      assert.equal(typeof m.kind, 'string', `${m.file}: kind`);
      assert.equal(typeof m.metadata?.name, 'string', `${m.file}: metadata.name`);
    }
    assert.deepEqual(manifests.map((m) => m.kind).sort(), ['Deployment', 'HorizontalPodAutoscaler', 'Job', 'PersistentVolumeClaim', 'Service']);
    // The strict reader refuses what it cannot read exactly, instead of reading it some other way.
    for (const bad of ['a: yes', 'a: 0755', 'a: &x 1', 'a: |\n  text', 'a: b\n  c', 'a: 1\na: 2']) assert.throws(() => parseYamlDocuments(bad), /yaml line/);
  });

  test('labels and selectors: the Deployment owns its pods, the Service selects them and not the Job', () => {
    const d = deployment();
    const podLabels = map(d, 'spec', 'template', 'metadata', 'labels');
    assert.ok(selects(map(d, 'spec', 'selector', 'matchLabels'), podLabels), 'Deployment selector matches its pod template');
    const service = one('Service', 'footwear');
    const selector = map(service, 'spec', 'selector');
    assert.ok(Object.keys(selector).length > 0);
    assert.ok(selects(selector, podLabels), 'Service selects the Deployment pods');
    assert.ok(!selects(selector, map(one('Job'), 'spec', 'template', 'metadata', 'labels')), 'Service does not send traffic to batch Job pods');
  });

  test('ports: containerPort = serve --port = Service targetPort = probe ports = scrape annotation', () => {
    const d = deployment();
    const c = container(d);
    const port = Number(flagValue(args(d), '--port'));
    assert.ok(port > 0, 'serve is given an explicit --port');
    assert.equal(flagValue(args(d), '--host'), '0.0.0.0', 'serve listens beyond loopback, or no probe or Service could reach it');
    const ports = list(c, 'ports') as YamlMap[];
    assert.equal(ports.length, 1);
    assert.equal(ports[0].containerPort, port);
    const portName = ports[0].name as string;
    const resolve = (p: YamlValue) => (p === portName ? port : p);
    const servicePort = map(one('Service', 'footwear'), 'spec', 'ports', 0);
    assert.equal(resolve(servicePort.targetPort), port);
    for (const probe of ['readinessProbe', 'livenessProbe']) assert.equal(resolve(map(c, probe, 'httpGet').port), port, `${probe} port`);
    const annotations = map(d, 'spec', 'template', 'metadata', 'annotations');
    assert.equal(annotations['prometheus.io/port'], String(port));
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(container(d).command, undefined, "the image's ENTRYPOINT (node bin/footwear.js) runs; args replace only its CMD");
  });

  test('resources come from the measured capacity of one replica (BENCHMARKS.md) and match serve threads', async () => {
    const c = container(deployment());
    const requests = map(c, 'resources', 'requests');
    const limits = map(c, 'resources', 'limits');
    const threads = Number(flagValue(args(deployment()), '--threads'));
    const workers = Number(flagValue(args(deployment()), '--workers') ?? 1);
    assert.equal(cores(requests.cpu), threads * workers, 'ONNX Runtime threads use exactly the CPUs requested');
    assert.deepEqual(limits, requests, 'Guaranteed QoS: limits equal requests');
    const benchmarks = await readFile(path.join(ROOT, 'BENCHMARKS.md'), 'utf8');
    // "one 2-core replica": the Server section's machine line, and the 1 worker x 2 threads it ran.
    assert.match(benchmarks, /## Server\n[\s\S]*?2 cores[\s\S]*?server: 1 worker\(s\) x 2 ONNX Runtime thread\(s\)/);
    assert.equal(cores(requests.cpu), 2);
    const rss = /\| RSS at start \| min \| max \|[^\n]*\n[^\n]*\n\| ([\d.]+) MiB \| ([\d.]+) MiB \| ([\d.]+) MiB \|/.exec(benchmarks);
    assert.ok(rss, 'BENCHMARKS.md has the soak RSS table');
    const peakRss = Number(rss[3]);
    const memory = mebibytes(requests.memory);
    assert.ok(memory >= peakRss * 1.25 && memory <= peakRss * 2, `memory ${memory} MiB is the soak's max RSS ${peakRss} MiB plus 25-100% headroom`);
  });

  test('HPA: autoscaling/v2 on the Deployment, by CPU and by the adapter-made queue-time metric', () => {
    const hpa = one('HorizontalPodAutoscaler', 'footwear');
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    const target = map(hpa, 'spec', 'scaleTargetRef');
    const d = deployment();
    assert.deepEqual([target.apiVersion, target.kind, target.name], [d.apiVersion, d.kind, d.metadata.name]);
    const spec = map(hpa, 'spec');
    assert.ok((spec.minReplicas as number) >= 2 && (spec.minReplicas as number) <= (spec.maxReplicas as number));
    const metrics = list(spec, 'metrics') as YamlMap[];
    const cpu = metrics.find((m) => m.type === 'Resource');
    assert.equal(map(cpu as YamlMap, 'resource').name, 'cpu');
    assert.equal(map(cpu as YamlMap, 'resource', 'target').type, 'Utilization');
    const pods = metrics.find((m) => m.type === 'Pods') as YamlMap;
    assert.ok(pods, 'a Pods metric');
    const rule = adapterRule();
    assert.equal(map(pods, 'pods', 'metric').name, map(rule, 'name').as, 'the HPA reads the metric the adapter rule makes');
    assert.equal(map(pods, 'pods', 'target').type, 'AverageValue');
    const seriesName = /^([a-z_:]+)\{/.exec(rule.seriesQuery as string)?.[1] as string;
    assert.match(seriesName, new RegExp(map(rule, 'name').matches as string), 'the rule renames the series it selects');
  });

  test('the Job runs predict from the same image on the models volume the Deployment uses', () => {
    const job = one('Job');
    const d = deployment();
    assert.equal(container(job).image, container(d).image);
    assert.equal(args(job)[0], 'predict');
    assert.equal(map(job, 'spec', 'template', 'spec').restartPolicy, 'Never');
    const claim = (w: Manifest) => (list(podSpec(w), 'volumes') as YamlMap[]).find((v) => v.name === 'model') as YamlMap;
    assert.equal(map(claim(job), 'persistentVolumeClaim').claimName, map(claim(d), 'persistentVolumeClaim').claimName);
    one('PersistentVolumeClaim', map(claim(d), 'persistentVolumeClaim').claimName as string);
    for (const w of [d, job]) {
      const volumes = new Set((list(podSpec(w), 'volumes') as YamlMap[]).map((v) => v.name));
      for (const mount of list(container(w), 'volumeMounts') as YamlMap[]) assert.ok(volumes.has(mount.name as string), `${w.kind} mount ${String(mount.name)} has a volume`);
    }
  });
});

describe('Dockerfile, read as data', () => {
  test('multi-stage: npm ci (with ONNXRUNTIME_NODE_INSTALL=skip) to build, npm ci --omit=dev for the runtime', () => {
    const npmCi = (stage: string) => (docker.stages.get(stage)?.instructions ?? []).filter(([k, v]) => k === 'RUN' && /\bnpm ci\b/.test(v)).map(([, v]) => v);
    const env = (stage: string) => (docker.stages.get(stage)?.instructions ?? []).filter(([k]) => k === 'ENV').map(([, v]) => v);
    assert.ok(npmCi('build').some((v) => !v.includes('--omit=dev')), 'build stage installs everything');
    assert.ok(npmCi('deps').some((v) => v.includes('--omit=dev')), 'deps stage installs runtime dependencies only');
    for (const stage of ['build', 'deps']) assert.ok(env(stage).some((v) => /ONNXRUNTIME_NODE_INSTALL=skip/.test(v)), `${stage}: no CUDA download`);
    const runtime = docker.stages.get('runtime')?.instructions ?? [];
    assert.ok(runtime.some(([k, v]) => k === 'COPY' && /--from=deps \/app\/node_modules/.test(v)), 'runtime takes node_modules from deps, not build');
    assert.equal(docker.stages.get(docker.order[docker.order.length - 1])?.from, 'runtime', 'the default target is the runtime image (model mounted)');
    assert.equal(docker.stages.get('baked')?.from, 'runtime');
  });

  test('non-root, exec-form entrypoint (SIGTERM reaches node), port and health check agree', () => {
    const runtime = effectiveInstructions(docker, 'runtime');
    const user = runtime.filter(([k]) => k === 'USER').pop()?.[1] ?? '0';
    assert.match(user, /^[1-9]\d*(:\d+)?$/, 'a numeric non-root user, which runAsNonRoot can verify');
    assert.equal(Number(user.split(':')[0]), map(podSpec(deployment()), 'securityContext').runAsUser);
    assert.deepEqual(execForm(runtime, 'ENTRYPOINT'), ['node', 'bin/footwear.js']);
    const cmd = execForm(runtime, 'CMD');
    assert.equal(cmd[0], 'serve');
    const port = flagValue(cmd, '--port');
    assert.equal(runtime.filter(([k]) => k === 'EXPOSE').pop()?.[1], port);
    assert.equal(flagValue(cmd, '--host'), '0.0.0.0');
    assert.equal(flagValue(cmd, '--model'), '/models/model');
    const health = execForm(runtime, 'HEALTHCHECK').join(' ');
    assert.match(health, new RegExp(`http://127\\.0\\.0\\.1:${port}/v2/health/ready`));
  });

  test('everything src/ and bin/ import is a runtime dependency (the image has no devDependencies)', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = new Set<string>();
    for (const dir of ['src', 'bin']) {
      for (const name of await readdir(path.join(ROOT, dir), { recursive: true })) {
        if (!/\.[cm]?[jt]s$/.test(name)) continue;
        const text = await readFile(path.join(ROOT, dir, name), 'utf8');
        for (const m of text.matchAll(/(?:from\s+|import\(\s*|resolve\(\s*)'([^.'][^']*)'/g)) {
          if (m[1].startsWith('node:')) continue;
          imported.add(m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0]);
        }
      }
    }
    assert.ok(imported.has('onnxruntime-node') && imported.has('tsx'), `found imports: ${[...imported].join(', ')}`);
    // The package's own name (the web page imports 'footwear/web', bundled at build time) and tsx,
    // which only a TypeScript checkout resolves (src/node/start-worker.ts), are not installs.
    imported.delete('footwear');
    imported.delete('tsx');
    for (const name of imported) assert.ok(name in pkg.dependencies, `${name} is imported by src/ or bin/ but is not in dependencies`);
  });
});

describe('deploy/ against the real program', () => {
  let modelDir = '';
  let models = '';
  let servers: ServeProcess[] = [];
  let fromDeployment: ServeProcess;
  let fromImage: ServeProcess;

  before(async () => {
    modelDir = await trainedModel();
    // A local stand-in for the models volume: model/ on it is the trained fixture.
    models = await mkdtemp(path.join(os.tmpdir(), 'footwear-deploy-models-'));
    await symlink(modelDir, path.join(models, 'model'));
    fromDeployment = await startServe(localServeArgs(args(deployment()), mountsOf(deployment(), { model: models })));
    servers.push(fromDeployment);
    fromImage = await startServe(localServeArgs(execForm(effectiveInstructions(docker, 'runtime'), 'CMD'), { '/models': models }));
    servers.push(fromImage);
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  test('metric names: the adapter rule reads series that a real /metrics scrape has', async () => {
    const [photo] = await firstFiles(path.join(SHOES, 'test'), 1);
    const response = await fetch(`${fromDeployment.url}/v1/classify`, { method: 'POST', body: new Uint8Array(await readFile(photo.file)), headers: { 'content-type': 'image/jpeg' } });
    assert.equal(response.status, 200);
    const { samples } = await scrape(fromDeployment.url);
    const rule = adapterRule();
    const names = new Set([...`${String(rule.seriesQuery)} ${String(rule.metricsQuery)}`.matchAll(/\b(footwear_[a-z_]+)\{/g)].map((m) => m[1]));
    assert.deepEqual([...names].sort(), ['footwear_queue_wait_seconds_count', 'footwear_queue_wait_seconds_sum']);
    for (const name of names) {
      assert.ok(samples.has(name), `${name} is in the scrape`);
      assert.ok((samples.get(name) as number) > 0 || name.endsWith('_sum'), `${name} moved after one photo`);
    }
    assert.equal(samples.get('footwear_queue_wait_seconds_count'), 1);
    const annotations = map(deployment(), 'spec', 'template', 'metadata', 'annotations');
    assert.equal((await fetch(`${fromDeployment.url}${String(annotations['prometheus.io/path'])}`)).status, 200, 'the scrape path answers');
  });

  // The probes use the KServe v2 paths /v2/health/ready and /v2/health/live: the manifests and
  // the image's HEALTHCHECK must name routes the real server answers.
  test('every probe path in deploy/ and the Dockerfile answers 200', async () => {
    const c = container(deployment());
    const paths = new Set<string>([map(c, 'readinessProbe', 'httpGet').path as string, map(c, 'livenessProbe', 'httpGet').path as string]);
    const health = /http:\/\/127\.0\.0\.1:\d+(\/\S+?)'/.exec(execForm(effectiveInstructions(docker, 'runtime'), 'HEALTHCHECK').join(' '));
    assert.ok(health, 'the HEALTHCHECK requests a URL');
    paths.add(health[1]);
    assert.deepEqual([...paths].sort(), ['/v2/health/live', '/v2/health/ready']);
    const statuses = await Promise.all([...paths].map(async (p) => [p, (await fetch(`${fromDeployment.url}${p}`)).status] as const));
    assert.deepEqual(statuses, [...paths].map((p) => [p, 200] as const), 'each probe path answers 200 once ready (404 here means the /v2 routes are missing)');
    for (const p of paths) assert.equal((await fetch(`${fromImage.url}${p}`)).status, 200, `${p} on the image's CMD`);
  });

  test('SIGTERM, as Kubernetes sends it, drains and exits 0 within the grace period', async () => {
    for (const server of [fromDeployment, fromImage]) {
      const code = await server.stop();
      assert.equal(code, 0, server.stderr());
      assert.match(server.stderr(), /SIGTERM: finishing requests in flight[\s\S]*stopped/);
    }
    servers = [];
    assert.ok((map(podSpec(deployment())).terminationGracePeriodSeconds as number) > 30, 'the grace period outlasts serve’s 30 s drain');
  });

  test("the Job's predict arguments classify real photos into the CSV it names", async () => {
    const job = one('Job');
    const data = await mkdtemp(path.join(os.tmpdir(), 'footwear-deploy-batch-'));
    const photos = await firstFiles(path.join(SHOES, 'test'), 1);
    await mkdir(path.join(data, 'in'));
    for (const p of photos) await copyFile(p.file, path.join(data, 'in', `${p.label}-${path.basename(p.file)}`));
    const local = remap(args(job), mountsOf(job, { model: models, data }));
    const { stderr } = await promisify(execFile)(process.execPath, [BIN, ...local]);
    const csvPath = flagValue(local, '--csv') as string;
    assert.ok(csvPath.startsWith(data), 'the CSV lands on the data volume');
    const rows = (await readFile(csvPath, 'utf8')).trim().split(/\r?\n/);
    assert.equal(rows[0], 'file,label,score,error');
    assert.equal(rows.length, 1 + photos.length, stderr);
    for (const row of rows.slice(1)) assert.match(row, /,(Boot|Sandal|Shoe),0\.\d+,/);
  });
});
