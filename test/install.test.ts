import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The README's first commands, `npm ci` and `npx footwear ...`, must print no warning: a user's
// first minutes should not be spent wondering whether "npm warn" lines matter.

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../..');
// npm's own "new version available" notice comes at most once a week, whatever the project does.
const run = (file: string, args: string[]) => promisify(execFile)(file, args, { cwd: ROOT, env: { ...process.env, npm_config_update_notifier: 'false' } });

test('npx footwear prints no npm warning (no unknown keys in .npmrc)', async () => {
  const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const { stdout, stderr } = await run('npx', ['footwear', '--version']);
  assert.equal(stdout, `${version}\n`);
  assert.equal(stderr, '');
});

const major = Number(process.versions.node.split('.')[0]);

test(
  'npm ci warns about nothing on a supported Node: engines, install scripts, config',
  { skip: major < 22 && `Node ${process.versions.node} is below the supported 22 and 24 (.ci/run runs this on 24)` },
  async () => {
    // --dry-run checks the lockfile's engines and the config without installing anything.
    const { stderr } = await run('npm', ['ci', '--dry-run', '--no-audit', '--no-fund']);
    assert.equal(stderr, '');
  },
);
