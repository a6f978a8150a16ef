#!/usr/bin/env node
// The CLI is written in TypeScript; tsx compiles it on load so `npx footwear` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/index.ts');
await main(process.argv.slice(2));
