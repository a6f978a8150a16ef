#!/usr/bin/env node
// Runs the built CLI (dist/, written by `npm run build`, which `npm ci` and `npm pack` run).
import { main } from '../dist/cli/index.js';

await main(process.argv.slice(2));
