/// <reference lib="dom" />
import { createClassifier, type ClassifierOptions, type WebClassifier } from 'footwear/web';
import { createCard } from './cards.ts';

// The demo page. Query parameters exist for benchmarks and for trying a backend by hand:
//   ?model=model.int8.onnx  ?backend=wasm|webgpu|auto  ?threads=1

const $ = <T extends Element>(selector: string): T => {
  const node = document.querySelector<T>(selector);
  if (!node) throw new Error(`page is missing ${selector}`);
  return node;
};

const status = $<HTMLElement>('[data-testid="status"]');
const dot = $<HTMLElement>('.dot');
const modelInfo = $<HTMLElement>('.model-info');
const input = $<HTMLInputElement>('[data-testid="file-input"]');
const results = $<HTMLElement>('.results');
const toolbar = $<HTMLElement>('.toolbar');
const summary = $<HTMLElement>('.summary');
const errorBox = $<HTMLElement>('.error');
const thumbnails: string[] = [];

function setStatus(state: 'loading' | 'ready' | 'error', info = ''): void {
  status.textContent = state;
  status.dataset.state = state;
  dot.dataset.state = state;
  modelInfo.textContent = info;
}

function showError(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function options(params: URLSearchParams): ClassifierOptions {
  const backend = params.get('backend') ?? 'auto';
  if (backend !== 'auto' && backend !== 'wasm' && backend !== 'webgpu') throw new Error(`?backend should be auto, wasm or webgpu, got "${backend}"`);
  const threads = params.has('threads') ? Number(params.get('threads')) : undefined;
  // ORT's wasm and worker files are served from this site's ort/ folder, never from a CDN.
  return { backend, threads, wasmPaths: new URL('ort/', document.baseURI).href, log: (line) => console.warn(line) };
}

function updateSummary(): void {
  const done = results.querySelectorAll('[data-state="done"]').length;
  const failed = results.querySelectorAll('[data-state="error"]').length;
  const pending = results.querySelectorAll('[data-state="pending"]').length;
  toolbar.hidden = results.childElementCount === 0;
  summary.textContent = [`${done} classified`, failed && `${failed} failed`, pending && `${pending} waiting`].filter(Boolean).join(' · ');
}

async function classifyAll(classifier: WebClassifier, files: readonly File[]): Promise<void> {
  const cards = files.map((file) => {
    const url = URL.createObjectURL(file);
    thumbnails.push(url);
    const card = createCard(file, url);
    results.append(card.element);
    return { file, card };
  });
  updateSummary();
  // One at a time, in order: the session runs one image at a time anyway, and each card fills in
  // as soon as its own photo is done.
  for (const { file, card } of cards) {
    try {
      card.show(await classifier.classify(file), classifier.backend);
    } catch (error) {
      card.fail((error as Error).message);
    }
    updateSummary();
  }
}

function clear(): void {
  for (const url of thumbnails.splice(0)) URL.revokeObjectURL(url);
  results.replaceChildren();
  updateSummary();
}

function acceptDrops(onFiles: (files: File[]) => void): void {
  let depth = 0;
  window.addEventListener('dragenter', (event) => {
    event.preventDefault();
    if (++depth === 1) document.body.classList.add('dragging');
  });
  window.addEventListener('dragleave', () => {
    if (--depth === 0) document.body.classList.remove('dragging');
  });
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    document.body.classList.remove('dragging');
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length > 0) onFiles(files);
  });
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const modelUrl = new URL(params.get('model') ?? 'model.onnx', document.baseURI);
  let classifier: WebClassifier;
  try {
    classifier = await createClassifier(modelUrl, options(params));
  } catch (error) {
    setStatus('error', 'model not loaded');
    showError((error as Error).message);
    return;
  }
  const threads = classifier.backend === 'WebGPU' ? '' : ` (${classifier.threads} thread${classifier.threads === 1 ? '' : 's'})`;
  setStatus('ready', `· ${classifier.labels.join(', ')} · ${classifier.backend}${threads}`);
  document.body.dataset.backend = classifier.backend;
  document.body.dataset.threads = String(classifier.threads);

  // Chosen batches queue behind each other so results keep the order they were picked in.
  let work = Promise.resolve();
  const enqueue = (files: File[]) => {
    work = work.then(() => classifyAll(classifier, files));
  };
  input.disabled = false;
  input.addEventListener('change', () => {
    const files = [...(input.files ?? [])];
    input.value = ''; // lets the same photo be chosen again
    if (files.length > 0) enqueue(files);
  });
  acceptDrops(enqueue);
  $<HTMLButtonElement>('.clear').addEventListener('click', clear);
}

void start();
