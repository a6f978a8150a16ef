import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress, RateMeter } from '../src/cli/progress.ts';

// Progress readings from a clock the test sets, so rates and ETAs are exact.

function fakeClock(): { now: () => number; at: (ms: number) => void } {
  let t = 0;
  return { now: () => t, at: (ms) => (t = ms) };
}

test('no rate or ETA until the work after the first reading spans a second; then measured from it', () => {
  const clock = fakeClock();
  const meter = new RateMeter(clock.now);
  clock.at(5000); // start-up costs before the first reading (a session's warm-up) do not count
  assert.equal(meter.reading(32, 900), undefined, 'one reading is no rate');
  clock.at(5001);
  assert.equal(meter.reading(64, 900), undefined, 'a millisecond later is still no rate (not 32000/s)');
  clock.at(7000);
  const r = meter.reading(96, 900);
  assert.deepEqual(r, { rate: 32, etaSeconds: (900 - 96) / 32 });
});

test('piped output: a plain line per 10%, the first without a rate, later ones with rate and ETA', () => {
  const clock = fakeClock();
  const lines: string[] = [];
  const stream = { isTTY: false, write: (text: string) => lines.push(text) > 0 };
  const progress = createProgress('features', stream, clock.now);
  clock.at(1);
  progress.update(32, 900);
  clock.at(3001);
  progress.update(96, 900);
  progress.update(100, 900); // same 10% step: no line
  clock.at(30001);
  progress.update(900, 900);
  assert.deepEqual(lines, ['features: 32/900 (4%)\n', 'features: 96/900 (11%), 21.3/s, ETA 38s\n', 'features: 900/900 (100%), 28.9/s, ETA 0s\n']);
});
