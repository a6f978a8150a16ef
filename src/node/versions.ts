import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A package's version, found from its entry point: some packages' `exports` hide package.json. */
export function packageVersion(pkg: string): string | undefined {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = path.dirname(require.resolve(pkg));
  } catch {
    return undefined;
  }
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const json = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (json.name === pkg) return json.version;
    } catch {
      // not this folder: keep walking up
    }
  }
  return undefined;
}

/** footwear's own version: src/node and dist/node both sit two folders below package.json. */
export function footwearVersion(): string {
  const file = path.resolve(fileURLToPath(import.meta.url), '../../../package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The versions a model's numbers depend on, recorded with each training run and report. */
export function runtimeVersions(): Record<string, string> {
  const out: Record<string, string> = { footwear: footwearVersion(), node: process.version };
  for (const pkg of ['@tensorflow/tfjs', 'onnxruntime-node', 'sharp']) out[pkg] = packageVersion(pkg) ?? 'not installed';
  return out;
}
