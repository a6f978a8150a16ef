import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { declaredCommands } from './support/cli-options.ts';

// The help a user reads, from the real CLI: every option described with its default, examples for
// every command, words never cut mid-word, and usage errors that come first and point to --help.

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../..');
const BIN = path.join(ROOT, 'bin/footwear.js');

async function footwear(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Option name -> its help text with wrapped lines joined by one space. */
function optionBlocks(help: string): Map<string, string> {
  const blocks = new Map<string, string>();
  let current: string | undefined;
  let section = '';
  for (const line of help.split('\n')) {
    if (/^\S.*:$/.test(line)) section = line;
    if (section !== 'Options:' && section !== 'Positionals:') continue;
    const start = line.match(/^ {2}(--[\w-]+|[a-z][\w-]*)(\s.*)?$/);
    if (start) {
      current = start[1].replace(/^--/, '');
      blocks.set(current, (start[2] ?? '').trim());
    } else if (current && /^ {3,}\S/.test(line)) {
      blocks.set(current, `${blocks.get(current)} ${line.trim()}`);
    } else current = undefined;
  }
  return blocks;
}

const TAGS = /\[(?:string|number|boolean|array|required|default: (?:\[\]|[^\]]*)|choices: [^\]]*)\]/g;

test('every option of every command is described, shows its default (or that it is required), and is wrapped at word boundaries', async () => {
  const commands = declaredCommands();
  const top = await footwear('--help');
  assert.equal(top.code, 0, top.stderr);
  for (const c of commands) assert.match(top.stdout, new RegExp(`^ {2}footwear ${c.usage.replace(/[.<>]/g, '\\$&')} `, 'm'), `${c.name} is listed`);
  assert.match(top.stdout.replace(/\s+/g, ' '), /Exit codes: 0 ok; 1 .*; 2 .*; 70 .*; 130 interrupted/);

  const helps = await Promise.all(commands.map((c) => footwear(c.name, '--help')));
  commands.forEach((c, i) => {
    const help = helps[i].stdout;
    assert.equal(helps[i].code, 0, `${c.name}: ${helps[i].stderr}`);
    const blocks = optionBlocks(help);
    for (const o of c.options) {
      const block = blocks.get(o.name);
      assert.ok(block !== undefined, `${c.name} --help lists ${o.name}:\n${help}`);
      assert.ok(o.describe, `${c.name} ${o.name} has a description`);
      // The description reads back whole once wrapped lines are joined: no word was cut.
      assert.ok(block.includes(o.describe), `${c.name} ${o.name}: "${o.describe}" in "${block}"`);
      const tags = block.match(TAGS) ?? [];
      assert.ok(tags.some((t) => t.startsWith('[default:') || t === '[required]' || t.startsWith('[choices:')), `${c.name} ${o.name} shows a default: ${block}`);
      assert.equal(block.replace(TAGS, '').trim(), o.describe, `${c.name} ${o.name}: nothing but description and tags`);
    }
    assert.ok(c.examples.length >= 1 && c.examples.length <= 3, `${c.name} has 1 to 3 examples`);
    const shown = help.slice(help.indexOf('\nExamples:\n'));
    for (const e of c.examples) assert.ok(shown.includes(`  ${e.replace('$0', 'footwear')}`), `${c.name} --help shows "${e}"`);
  });
});

test('a usage mistake prints the error first, in --flag words, and points to --help instead of printing it', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--data', 'x', '--bogus', '1'], /^footwear: unknown option --bogus$/],
    [['train', 'extra', '--data', 'x'], /^footwear: unexpected argument "extra"$/],
    [['eval', '--data', 'x'], /^footwear: missing required option --model$/],
    [['predict', '--model', 'm', 'x.jpg', '--csv'], /^footwear: --csv needs a value$/],
    [['predict', '--model', 'm'], /^footwear: name at least one image file or folder$/],
    [['web', 'deploy', '--model', 'm', '--out', 'o'], /^footwear: action should be one of build, got "deploy"$/],
  ];
  const outcomes = await Promise.all(cases.map(([args]) => footwear(...args)));
  cases.forEach(([args, first], i) => {
    const r = outcomes[i];
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], first);
    assert.deepEqual(lines.slice(1), [`see 'footwear ${args[0]} --help' for the options and examples`]);
  });
  const none = await footwear();
  assert.equal(none.code, 2);
  assert.deepEqual(none.stderr.trimEnd().split('\n'), [`footwear: name a command: ${declaredCommands().map((c) => c.name).join(', ')}`, "see 'footwear --help' for the options and examples"]);
});

test("the README's command table lists exactly each command's options", async () => {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const rows = new Map<string, Set<string>>();
  const shownDefaults: { command: string; flag: string; value: string }[] = [];
  // Cells escape the pipes inside them as \|.
  for (const m of readme.matchAll(/^\| `footwear ([a-z]+)((?:[^|\\]|\\.)*?)` \|/gm)) {
    const flags = [...m[2].matchAll(/--(?:no-)?([a-z][\w-]*)/g)].map((f) => f[1]);
    rows.set(m[1], new Set(flags));
    // `[--epochs 40]` shows a default: it must be the CLI's (placeholders like N or DIR are not values).
    for (const d of m[2].matchAll(/\[--([a-z][\w-]*) ([^\]\s\\]+)\]/g)) shownDefaults.push({ command: m[1], flag: d[1], value: d[2] });
  }
  for (const c of declaredCommands()) {
    const documented = rows.get(c.name);
    assert.ok(documented, `README's command table has a row for ${c.name}`);
    const declared = new Set(c.options.filter((o) => !o.positional).map((o) => o.name));
    assert.deepEqual([...documented].filter((f) => !declared.has(f)), [], `${c.name}: README flags the CLI does not have`);
    assert.deepEqual([...declared].filter((f) => !documented.has(f)), [], `${c.name}: CLI flags the README leaves out`);
  }
  const commands = declaredCommands();
  for (const { command, flag, value } of shownDefaults.filter((d) => !/^[A-Z]+$/.test(d.value))) {
    const option = commands.find((c) => c.name === command)?.options.find((o) => o.name === flag);
    assert.equal(value, String(option?.default ?? option?.defaultDescription), `README's default for ${command} --${flag}`);
  }
});
