// transformers.js is what footwear is measured against, never something it depends on: it is
// installed with npm into a folder of its own under the OS temp folder, kept there between runs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../src/core/index.ts';

/** Pinned, so every BENCHMARKS.md number names exactly what it ran. */
export const TRANSFORMERS_JS_VERSION = '4.3.2';
export const PACKAGE = '@huggingface/transformers';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'classify.mjs');

export interface Installation {
  /** The folder holding node_modules/ and classify.mjs. */
  dir: string;
  script: string;
  versions: Record<string, string>;
}

async function installedVersion(dir: string, pkg: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** npm itself: the one running this script under `npm run`, else the one on PATH. */
function npmCommand(): [string, string[]] {
  const cli = process.env.npm_execpath;
  return cli && /\.[cm]?js$/.test(cli) ? [process.execPath, [cli]] : ['npm', []];
}

/** Installs (or finds, from an earlier run) `@huggingface/transformers@version` in its own folder. */
export async function installTransformersJs(version = TRANSFORMERS_JS_VERSION, log: (line: string) => void = () => {}): Promise<Installation> {
  const dir = path.join(os.tmpdir(), 'footwear-transformers-js', version);
  if ((await installedVersion(dir, PACKAGE)) !== version) {
    log(`installing ${PACKAGE}@${version} into ${dir}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const [command, prefix] = npmCommand();
    const args = [...prefix, 'install', '--prefix', dir, '--save-exact', '--no-audit', '--no-fund', `${PACKAGE}@${version}`];
    // onnxruntime-node's postinstall fetches CUDA binaries from NuGet; the CPU binaries the bench
    // runs ship in its npm package, so that download is skipped.
    const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0 || (await installedVersion(dir, PACKAGE)) !== version) {
      throw new UserError(`npm install ${PACKAGE}@${version} into ${dir} failed (exit ${code}; the registry must be reachable): ${stderr.trim().split('\n').at(-1) ?? ''}`);
    }
  }
  // The script sits beside node_modules so its bare import finds this installation.
  const script = path.join(dir, 'classify.mjs');
  await copyFile(SCRIPT, script);
  const versions: Record<string, string> = {};
  for (const pkg of [PACKAGE, 'onnxruntime-node', 'sharp']) versions[pkg] = (await installedVersion(dir, pkg)) ?? 'not installed';
  return { dir, script, versions };
}
