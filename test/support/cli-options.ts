import type { Argv } from 'yargs';
import { COMMAND_TABLE } from '../../src/cli/index.ts';

// Each command's options as its builder declares them, read by handing the builder a stand-in
// for yargs that records `.option()` and `.positional()` calls and `.example()` lines.

export interface DeclaredOption {
  name: string;
  positional: boolean;
  describe?: string;
  default?: unknown;
  defaultDescription?: string;
  demandOption?: unknown;
}

export interface DeclaredCommand {
  name: string;
  usage: string;
  options: DeclaredOption[];
  examples: string[];
}

function record(builder: (y: Argv) => unknown): Pick<DeclaredCommand, 'options' | 'examples'> {
  const options: DeclaredOption[] = [];
  const examples: string[] = [];
  const proxy: Argv = new Proxy({} as Argv, {
    get(_target, method) {
      return (...args: unknown[]) => {
        if (method === 'option' || method === 'positional') options.push({ name: args[0] as string, positional: method === 'positional', ...(args[1] as object) });
        if (method === 'options') for (const [name, o] of Object.entries(args[0] as Record<string, object>)) options.push({ name, positional: false, ...o });
        if (method === 'example') examples.push(args[0] as string);
        if (method === 'epilogue') examples.push(...[...(args[0] as string).matchAll(/^ {2}(footwear .*)$/gm)].map((m) => m[1]));
        return proxy;
      };
    },
  });
  builder(proxy);
  return { options, examples };
}

export function declaredCommands(): DeclaredCommand[] {
  return COMMAND_TABLE.map((c) => ({ name: c.name, usage: c.usage, ...record(c.builder) }));
}
