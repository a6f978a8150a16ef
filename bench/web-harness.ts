import { chromium, type Browser, type Page } from 'playwright-core';

// Drives the built demo page in headless Chromium through its data-testid contract; shared by
// test/web.test.ts, bench/web.ts and bench/web-screenshot.ts. Chromium is Debian's
// (/usr/bin/chromium), never a Playwright download.

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface PageResult {
  file: string;
  state: 'done' | 'error';
  label: string;
  score: number;
  topK: { label: string; score: number }[];
  ms: number;
  inferenceMs: number;
  backend: string;
  error?: string;
}

export interface PageInfo {
  backend: string;
  /** wasm threads ORT started with. */
  threads: number;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

/** Opens the site and waits until the model is loaded; throws the page's own error otherwise. */
export async function openDemo(page: Page, url: string, timeoutMs = 60_000): Promise<PageInfo> {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  const status = page.getByTestId('status');
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.getAttribute('data-state') !== 'loading', null, { timeout: timeoutMs });
  if ((await status.getAttribute('data-state')) !== 'ready') {
    const shown = await page.locator('.error').textContent();
    throw new Error(`page did not load the model: ${shown ?? ''} ${errors.join('; ')}`.trim());
  }
  return page.evaluate(() => ({
    backend: document.body.dataset.backend ?? '',
    threads: Number(document.body.dataset.threads),
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
  }));
}

/** Chooses `files` on the page's file input and returns the new result cards once all finish. */
export async function classifyInPage(page: Page, files: readonly string[], timeoutMs = 60_000): Promise<PageResult[]> {
  const before = await page.getByTestId('result').count();
  await page.getByTestId('file-input').setInputFiles([...files]);
  await page.waitForFunction(
    (total) => document.querySelectorAll('[data-testid="result"]:not([data-state="pending"])').length >= total,
    before + files.length,
    { timeout: timeoutMs },
  );
  // No named helpers inside: tsx compiles them with esbuild's __name(), which the page lacks.
  const all = await page.getByTestId('result').evaluateAll((cards) =>
    cards.map((card) => {
      const [prediction, score, time, backend] = ['prediction', 'score', 'time', 'backend'].map((id) => card.querySelector<HTMLElement>(`[data-testid="${id}"]`));
      return {
        file: card.dataset.file ?? '',
        state: card.dataset.state as 'done' | 'error',
        label: prediction?.textContent ?? '',
        score: Number(score?.dataset.score),
        topK: [...card.querySelectorAll<HTMLElement>('[data-testid="top-k"] li')].map((li) => ({ label: li.dataset.label ?? '', score: Number(li.dataset.score) })),
        ms: Number(time?.dataset.ms),
        inferenceMs: Number(time?.dataset.inferenceMs),
        backend: backend?.textContent ?? '',
        ...(card.dataset.error !== undefined && { error: card.dataset.error }),
      };
    }),
  );
  return all.slice(before);
}
