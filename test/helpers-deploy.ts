import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlDocuments, type YamlMap, type YamlValue } from './helpers-yaml.ts';

// What the deploy tests share: the repository's deploy/ files and Dockerfile read as data, and
// `footwear serve` started through the real CLI with the arguments a manifest gives it.

export const ROOT = path.resolve(fileURLToPath(import.meta.url), '../..');
export const BIN = path.join(ROOT, 'bin', 'footwear.js');

export interface YamlFile {
  /** Relative to the repository, e.g. deploy/hpa.yaml. */
  file: string;
  documents: YamlValue[];
}

export async function readDeployYaml(): Promise<YamlFile[]> {
  const dir = path.join(ROOT, 'deploy');
  const names = (await readdir(dir, { recursive: true })).filter((n) => /\.ya?ml$/.test(n)).sort();
  return Promise.all(names.map(async (n) => ({ file: path.join('deploy', n), documents: parseYamlDocuments(await readFile(path.join(dir, n), 'utf8')) })));
}

/** Follows keys and indexes through parsed YAML; throws naming the path when one is missing. */
export function at(value: YamlValue, ...keys: (string | number)[]): YamlValue {
  let here = value;
  for (const key of keys) {
    const next = here !== null && typeof here === 'object' ? (here as Record<string | number, YamlValue>)[key] : undefined;
    if (next === undefined) throw new Error(`no ${keys.join('.')} (stopped at ${String(key)})`);
    here = next;
  }
  return here;
}

export const map = (value: YamlValue, ...keys: (string | number)[]) => at(value, ...keys) as YamlMap;
export const list = (value: YamlValue, ...keys: (string | number)[]) => at(value, ...keys) as YamlValue[];

/** The value after `flag` in an argument list, or undefined. */
export function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `args` with the value after `flag` replaced. */
export function withFlag(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  if (i < 0) throw new Error(`${flag} not in ${args.join(' ')}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

/** Container paths in `args` rewritten onto local folders: the longest mount path wins. */
export function remap(args: string[], mounts: Record<string, string>): string[] {
  const paths = Object.keys(mounts).sort((a, b) => b.length - a.length);
  return args.map((arg) => {
    const mount = paths.find((p) => arg === p || arg.startsWith(`${p}/`));
    return mount ? path.join(mounts[mount], arg.slice(mount.length)) : arg;
  });
}

export interface Dockerfile {
  /** Stage name -> its instructions as [keyword, rest] (continuation lines joined). */
  stages: Map<string, { from: string; instructions: [string, string][] }>;
  /** Stage names in order; the last is the default target. */
  order: string[];
}

export async function readDockerfile(): Promise<Dockerfile> {
  const text = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Dockerfile['stages'] = new Map();
  const order: string[] = [];
  let current: [string, string][] | undefined;
  for (const line of logical) {
    const keyword = line.split(/\s+/)[0];
    const body = line.slice(keyword.length).trim();
    if (keyword.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(body);
      if (!m) throw new Error(`Dockerfile: cannot read FROM ${body}`);
      const name = m[2] ?? `stage${order.length}`;
      current = [];
      stages.set(name, { from: m[1], instructions: current });
      order.push(name);
    } else if (current) current.push([keyword.toUpperCase(), body]);
    else if (keyword.toUpperCase() !== 'ARG') throw new Error(`Dockerfile: ${keyword} before FROM`);
  }
  return { stages, order };
}

/** Instructions of `stage` including those it inherits from the stages it is built FROM. */
export function effectiveInstructions(docker: Dockerfile, stage: string): [string, string][] {
  const entry = docker.stages.get(stage);
  if (!entry) throw new Error(`Dockerfile has no stage ${stage}`);
  const parent = docker.stages.has(entry.from) ? effectiveInstructions(docker, entry.from) : [];
  return [...parent, ...entry.instructions];
}

/** The last instruction `keyword` in effect, e.g. CMD; JSON (exec form) is required. */
export function execForm(instructions: [string, string][], keyword: string): string[] {
  const found = instructions.filter(([k]) => k === keyword).pop();
  if (!found) throw new Error(`no ${keyword}`);
  const body = keyword === 'HEALTHCHECK' ? found[1].replace(/^.*?\bCMD\s+/, '') : found[1];
  const parsed = JSON.parse(body) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`${keyword} is not exec form (a JSON array): ${found[1]}`);
  return parsed;
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** Sends SIGTERM as Kubernetes does and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `node bin/footwear.js ...args`; resolves once serve says ready (or rejects with its stderr if it exits). */
export function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      const url = /listening on (http:\/\/\S+);/.exec(stderr)?.[1];
      if (url && /^ready: /m.test(stderr)) {
        resolve({
          url,
          child,
          stderr: () => stderr,
          stop: () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`footwear ${args.join(' ')} exited ${code} before it was ready:\n${stderr}`)));
  });
}
