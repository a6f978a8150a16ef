// What a user sees when the command line itself is wrong: the error first, on one line, in the
// same `--flag` words the help uses, then where to read more. Printing the whole help with the
// error last (yargs' default) buried the one line that mattered under ~30 others.

/** Exit status of a command line yargs rejected (a missing, unknown or malformed flag). */
export const EXIT_USAGE = 2;

const flag = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);
const list = (names: string) => names.split(', ').map(flag).join(', ');

/**
 * yargs' messages in the CLI's own words. `typed` is the command line, which tells an unknown
 * option (`--bogus`) from a stray word (`extra`): yargs reports both as "Unknown argument".
 */
export function rewriteUsageMessage(message: string, typed: readonly string[]): string {
  let m: RegExpMatchArray | null;
  if ((m = message.match(/^Missing required arguments?: (.+)$/))) return `missing required option ${list(m[1])}`;
  if ((m = message.match(/^Not enough arguments following: (.+)$/))) return `${flag(m[1])} needs a value`;
  if ((m = message.match(/^Unknown arguments?: (.+)$/))) {
    return m[1]
      .split(', ')
      .map((name) => (typed.some((t) => t === flag(name) || t.startsWith(`${flag(name)}=`) || t === `--no-${name}`) ? `unknown option ${flag(name)}` : `unexpected argument "${name}"`))
      .join('; ');
  }
  if ((m = message.match(/^Invalid values:\s+Argument: (\S+), Given: (.+), Choices: (.+)$/s))) return `${m[1]} should be one of ${m[3].replaceAll('"', '')}, got ${m[2]}`;
  if (/^Not enough non-option arguments: got 0, need at least 1$/.test(message)) return 'name at least one image file or folder';
  if ((m = message.match(/^Arguments (\S+) and (\S+) are mutually exclusive$/))) return `${flag(m[1])} and ${flag(m[2])} cannot be used together`;
  return message.replace(/\s*\n\s*/g, '; ');
}

/** The command a command line names, if any (the first word that is not an option). */
export function commandOf(typed: readonly string[], commands: readonly string[]): string | undefined {
  const word = typed.find((t) => !t.startsWith('-'));
  return word !== undefined && commands.includes(word) ? word : undefined;
}

/** Two lines: the error, then the help to read. */
export function usageFailure(message: string, typed: readonly string[], commands: readonly string[]): string {
  const command = commandOf(typed, commands);
  const help = command ? `footwear ${command} --help` : 'footwear --help';
  return `footwear: ${rewriteUsageMessage(message, typed)}\nsee '${help}' for the options and examples\n`;
}
