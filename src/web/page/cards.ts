/// <reference lib="dom" />
import type { WebPrediction } from 'footwear/web';

// One card per photo. Built with the DOM API, never innerHTML: file names come from the user.
// The data-testid and data-* attributes are the page's contract with tests and benchmarks.

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, data: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign((node as HTMLElement).dataset, data);
  return node;
}

function percent(score: number): string {
  return `${(score * 100).toFixed(score >= 0.995 || score < 0.1 ? 1 : 0)}%`;
}

export interface Card {
  element: HTMLElement;
  show(prediction: WebPrediction, backend: string): void;
  fail(message: string): void;
}

export function createCard(file: File, thumbnailUrl: string): Card {
  const element = el('article', { className: 'result' }, { testid: 'result', state: 'pending', file: file.name });
  const label = el('span', { className: 'label', textContent: 'Classifying…' }, { testid: 'prediction' });
  const score = el('span', { className: 'score' }, { testid: 'score' });
  const ranks = el('ol', { className: 'ranks' }, { testid: 'top-k' });
  const time = el('span', {}, { testid: 'time' });
  const backendTag = el('span', {}, { testid: 'backend' });
  const headline = el('div', { className: 'headline' });
  headline.append(label, score);
  const meta = el('div', { className: 'meta' });
  meta.append(time, backendTag);
  const body = el('div', { className: 'body' });
  body.append(el('div', { className: 'name', textContent: file.name, title: file.name }), headline, ranks, meta);
  const thumbnail = el('img', { src: thumbnailUrl, alt: file.name, loading: 'lazy', decoding: 'async' });
  element.append(thumbnail, body);
  // A file the browser cannot show (not an image, or a format it lacks) would show the broken-image
  // icon; a placeholder saying why takes its place.
  const placeholder = (message: string) => {
    const box = el('div', { className: 'thumb-error', textContent: message, title: message }, { testid: 'thumbnail-error' });
    box.setAttribute('role', 'img');
    box.setAttribute('aria-label', `${file.name}: ${message}`);
    (element.querySelector('img, .thumb-error') ?? thumbnail).replaceWith(box);
  };
  // The image may fail to load after classification already failed and said why: keep that reason.
  thumbnail.addEventListener('error', () => element.querySelector('.thumb-error') || placeholder('the browser cannot display this file'), { once: true });

  return {
    element,
    show(prediction, backend) {
      label.textContent = prediction.label;
      score.textContent = percent(prediction.score);
      score.dataset.score = String(prediction.score);
      for (const { label: name, score: value } of prediction.topK) {
        const bar = el('span', { className: 'bar' });
        const fill = el('span');
        fill.style.width = `${(value * 100).toFixed(1)}%`;
        bar.append(fill);
        const row = el('li', {}, { label: name, score: String(value) });
        row.append(el('span', { textContent: name }), bar, el('span', { className: 'pct', textContent: percent(value) }));
        ranks.append(row);
      }
      time.textContent = `${prediction.ms.toFixed(0)} ms`;
      time.title = `${prediction.inferenceMs.toFixed(1)} ms in the model, the rest decoding and resizing`;
      time.dataset.ms = String(prediction.ms);
      time.dataset.inferenceMs = String(prediction.inferenceMs);
      backendTag.textContent = backend;
      element.dataset.state = 'done';
    },
    fail(message) {
      placeholder(message);
      label.textContent = message;
      element.dataset.state = 'error';
      element.dataset.error = message;
    },
  };
}
