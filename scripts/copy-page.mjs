// Part of `npm run build`: the web page's source travels with the built package, because
// `footwear web build` bundles it with Vite for each model (see src/web/build.ts).
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/web/page', { recursive: true, force: true });
cpSync('src/web/page', 'dist/web/page', { recursive: true });
