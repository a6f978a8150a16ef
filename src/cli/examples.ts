// Examples as an epilogue: each command line on its own line with what it does indented below.
// yargs' .example() puts both in two columns of half the width each, which breaks every
// realistic command line across lines.

/** The "Examples:" block of a command's --help; 1 to 3 [command line, what it does] pairs. */
export function examples(...pairs: [string, string][]): string {
  return `Examples:\n${pairs.map(([command, what]) => `  ${command}\n      ${what}`).join('\n')}`;
}
