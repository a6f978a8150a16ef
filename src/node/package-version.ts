import { readFileSync } from 'node:fs';

/** footwear's own version; src/node and dist/node both sit two folders below package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
