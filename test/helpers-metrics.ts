// Reads a Prometheus text exposition (what /metrics answers) into sample -> value, keyed by
// the sample's name and its labels exactly as written, e.g. 'x_bucket{le="0.01"}'.

export type Scrape = Map<string, number>;

export function parseExposition(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (!m) throw new Error(`not an exposition sample: ${line}`);
    samples.set(m[1], Number(m[2]));
  }
  return samples;
}

/** Metric family names: what `# TYPE name type` lines declare. */
export function metricFamilies(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]));
}

export async function scrape(baseUrl: string): Promise<{ text: string; samples: Scrape }> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  return { text, samples: parseExposition(text) };
}

/** A sample's value, 0 when absent (prom-client omits labelled series never touched). */
export function sample(samples: Scrape, key: string): number {
  return samples.get(key) ?? 0;
}
