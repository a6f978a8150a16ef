import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_FILES } from '../core/index.ts';
import { writeFileAtomic } from '../node/index.ts';
import { ExportError } from './errors.ts';
import { readGraphSignature, type GraphSignature } from './onnx-graph.ts';
import { LABELS_FILE, TRITON_DEFAULTS, TRITON_MODEL_FILE, TRITON_VERSION, checkTritonOptions, isTritonName, labelsFile, tritonConfig, type TritonOptions } from './triton-config.ts';

// `footwear export triton`: REPO/NAME/{config.pbtxt, labels.txt, 1/model.onnx}, the layout
// `tritonserver --model-repository REPO` loads. The entry is assembled in a staging folder and
// renamed into place, so Triton (which may poll the repository) never sees half of one.

export interface ExportTritonOptions extends Partial<Omit<TritonOptions, 'name'>> {
  /** Model folder (holding model.onnx) or the .onnx file. */
  model: string;
  /** The model repository; created if missing, other models in it are left alone. */
  out: string;
  /** Default: the model folder's name, or the file's name without .onnx. */
  name?: string;
}

export interface WrittenFile {
  /** Relative to the repository, with "/" separators. */
  path: string;
  bytes: number;
}

export interface TritonExport {
  repository: string;
  name: string;
  /** REPO/NAME. */
  dir: string;
  source: string;
  labels: string[];
  files: WrittenFile[];
  config: string;
}

async function statOrNull(file: string): Promise<Stats | null> {
  return stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new ExportError(`cannot access ${file} (${error.code ?? error.message})`);
  });
}

/** DIR/model.onnx for a folder, the path itself for a file; errors name --model. */
async function resolveModelFile(model: string): Promise<string> {
  const info = await statOrNull(model);
  if (!info) throw new ExportError(`--model ${model}: no such file or folder, expected a model folder or an .onnx file`);
  if (!info.isDirectory()) {
    if (!info.isFile()) throw new ExportError(`--model ${model}: not a regular file (a FIFO, socket or device)`);
    return model;
  }
  const file = path.join(model, MODEL_FILES.onnx);
  if (!(await statOrNull(file))?.isFile()) throw new ExportError(`--model ${model}: the folder has no ${MODEL_FILES.onnx}`);
  return file;
}

/** What `footwear serve` calls the model too: the folder's name for DIR/model.onnx. */
export function defaultModelName(file: string): string {
  const base = path.basename(file);
  return base === MODEL_FILES.onnx ? path.basename(path.dirname(path.resolve(file))) : base.replace(/\.onnx$/i, '');
}

/**
 * Where to assemble the entry: beside the repository when that is on the same file system (so
 * a polling Triton never sees the half-built folder as a model), else inside it, hidden.
 */
async function stagingParent(repo: string): Promise<string> {
  const parent = path.dirname(repo);
  const [a, b] = await Promise.all([stat(repo), stat(parent).catch(() => null)]);
  if (b && a.dev === b.dev && parent !== repo) {
    const probe = path.join(parent, `.footwear-export-probe-${randomBytes(4).toString('hex')}`);
    const writable = await mkdir(probe).then(
      () => rm(probe, { recursive: true }).then(() => true),
      () => false,
    );
    if (writable) return parent;
  }
  return repo;
}

async function prepareRepository(out: string): Promise<string> {
  const repo = path.resolve(out);
  await mkdir(repo, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ExportError(`--out ${out}: cannot create the repository folder (${error.code ?? error.message})`);
  });
  if (!(await stat(repo)).isDirectory()) throw new ExportError(`--out ${out}: exists and is not a folder`);
  return repo;
}

/**
 * Moves `staging` to `target`, replacing an earlier entry only once the new one is complete. A
 * folder cannot be renamed over a non-empty one, so an earlier entry is first moved aside: a
 * Triton polling at that instant sees the model gone and unloads it until its next poll.
 */
async function swapIn(staging: string, target: string): Promise<void> {
  const existing = await statOrNull(target);
  if (existing && !existing.isDirectory()) throw new ExportError(`--out: ${target} exists and is not a folder`);
  const old = existing ? `${staging}-old` : undefined;
  if (old) await rename(target, old);
  try {
    await rename(staging, target);
  } catch (error) {
    if (old) await rename(old, target);
    throw new ExportError(`cannot move the new entry into ${target} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (old) await rm(old, { recursive: true, force: true });
}

/** Writes the Triton repository entry for one footwear model; see the module comment. */
export async function exportTriton(options: ExportTritonOptions): Promise<TritonExport> {
  const file = await resolveModelFile(options.model);
  const tritonOptions: TritonOptions = {
    name: options.name ?? defaultModelName(file),
    maxBatchSize: options.maxBatchSize ?? TRITON_DEFAULTS.maxBatchSize,
    preferredBatchSizes: options.preferredBatchSizes ?? [...TRITON_DEFAULTS.preferredBatchSizes],
    maxQueueDelayUs: options.maxQueueDelayUs ?? TRITON_DEFAULTS.maxQueueDelayUs,
    instances: options.instances ?? TRITON_DEFAULTS.instances,
    gpu: options.gpu ?? TRITON_DEFAULTS.gpu,
  };
  if (options.name === undefined && !isTritonName(tritonOptions.name)) {
    throw new ExportError(`--name: the name taken from ${file}, "${tritonOptions.name}", cannot name a Triton model (letters, digits, "_", "." and "-"); pass --name`);
  }
  checkTritonOptions(tritonOptions);
  const bytes = await readFile(file);
  const signature: GraphSignature = readGraphSignature(bytes, file);
  const config = tritonConfig(signature, tritonOptions, file);
  const labels = labelsFile(signature);

  const repo = await prepareRepository(options.out);
  const target = path.join(repo, tritonOptions.name);
  const staging = await mkdtemp(path.join(await stagingParent(repo), `.${tritonOptions.name}.footwear-export-`));
  const files: [string, string | Uint8Array][] = [
    ['config.pbtxt', config],
    [LABELS_FILE, labels],
    [`${TRITON_VERSION}/${TRITON_MODEL_FILE}`, bytes],
  ];
  try {
    // mkdtemp makes a private folder; Triton often runs as another user than the one exporting.
    await chmod(staging, 0o755);
    for (const [name, data] of files) await writeFileAtomic(path.join(staging, ...name.split('/')), data);
    await swapIn(staging, target);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return {
    repository: repo,
    name: tritonOptions.name,
    dir: target,
    source: file,
    labels: signature.spec.labels,
    files: files.map(([name, data]) => ({ path: `${tritonOptions.name}/${name}`, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.length })),
    config,
  };
}
