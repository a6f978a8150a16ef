import { escapeHtml } from './format.ts';

// The page shell: one self-contained HTML file, styles inline, no script, no font or image that
// would be fetched, so it opens the same from a laptop, an archive or an air-gapped machine.

const STYLE = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
  --train: #2563eb; --val: #ea580c; --good: 37, 99, 235; --bad: 220, 38, 38; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
p.lead, p.note, .muted { color: var(--muted); }
p.lead { margin: 0 0 16px; }
p.note { font-size: 13px; margin: 6px 0; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--panel); padding: 1px 4px; border-radius: 4px; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 4px; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 140px; }
.tile .value { display: block; font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .label { font-size: 13px; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px 8px 4px; }
figure.chart figcaption { font-weight: 600; font-size: 14px; margin: 0 4px 4px; }
svg { display: block; width: 100%; height: auto; font: 12px system-ui, sans-serif; }
svg .axis line, svg .axis path { stroke: #8c959f; }
svg .grid line { stroke: #eaeef2; }
svg text { fill: var(--muted); }
.legend { display: flex; gap: 16px; font-size: 13px; color: var(--muted); margin: 2px 6px 4px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 6px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border: 1px solid var(--line); text-align: right; }
th { background: var(--panel); font-weight: 600; }
th.row, td.text { text-align: left; }
.side { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
table.confusion td { min-width: 64px; font-weight: 600; }
table.confusion .corner { font-weight: 400; color: var(--muted); font-size: 12px; text-align: left; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
figure.mistake { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 6px; background: var(--panel); }
figure.mistake img { display: block; margin: 0 auto 4px; background: #fff; }
figure.mistake .noimg { height: 96px; display: flex; align-items: center; justify-content: center; font-size: 12px; color: var(--muted); }
figure.mistake figcaption { font-size: 12px; line-height: 1.35; }
figure.mistake .verdict { font-weight: 600; color: var(--fg); }
figure.mistake .file { color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; display: block; }
dl.card { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.card dt { color: var(--muted); }
dl.card dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 8px 32px; }
details { margin: 8px 0; }
summary { cursor: pointer; color: var(--muted); font-size: 13px; }
footer { margin-top: 40px; font-size: 12px; color: var(--muted); }
@media print { main { max-width: none; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

export interface Tile {
  /** data-metric name the tests read back. */
  metric: string;
  value: string;
  label: string;
  /** Exact value behind the shown text, for readers that want more than two decimals. */
  raw?: number;
}

export function tiles(list: readonly Tile[]): string {
  return `<div class="tiles">${list
    .map((t) => `<div class="tile"><span class="value" data-metric="${escapeHtml(t.metric)}"${t.raw === undefined ? '' : ` data-value="${t.raw}"`}>${escapeHtml(t.value)}</span><span class="label">${escapeHtml(t.label)}</span></div>`)
    .join('')}</div>`;
}

export function section(id: string, heading: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(heading)}</h2>${body}</section>`;
}

export function page(options: { title: string; body: string; footer: string }): string {
  // The CSP forbids every fetch: should a future change slip in an external URL, the page shows
  // the gap instead of quietly phoning home.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${options.body}
<footer>${options.footer}</footer>
</main>
</body>
</html>
`;
}
