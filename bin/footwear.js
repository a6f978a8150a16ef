#!/usr/bin/env node
// An installed package runs its built JavaScript (dist/, from `npm run build`). A source checkout
// runs the TypeScript itself through tsx, a dev dependency: `npx footwear` right after `npm ci`
// needs no build step and never runs a stale one.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/index.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/index.js'));
}
await main(process.argv.slice(2));
