// A small, strict option parser: `--name value`, `--name=value`, boolean flags, repeatable options,
// and `--` ending the options (everything after it is positional, e.g. a command line to run).
import { UserError } from './command';

export interface OptionSpec {
  /** Options that take a value; a repeatable one collects every occurrence. */
  values?: readonly string[];
  repeatable?: readonly string[];
  /** Options that take no value. */
  flags?: readonly string[];
}

export interface ParsedArgs {
  values: Map<string, string[]>;
  flags: Set<string>;
  positional: string[];
  /** Arguments after `--`, untouched. */
  rest: string[];
}

export function parseArgs(args: readonly string[], spec: OptionSpec, command: string): ParsedArgs {
  const valueNames = new Set([...(spec.values ?? []), ...(spec.repeatable ?? [])]);
  const flagNames = new Set([...(spec.flags ?? []), 'help']);
  const parsed: ParsedArgs = { values: new Map(), flags: new Set(), positional: [], rest: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      parsed.rest = args.slice(i + 1);
      break;
    }
    if (!arg.startsWith('--') || arg === '-') {
      if (arg.startsWith('-') && arg !== '-' && arg !== '-h') throw new UserError(`${command}: unknown option ${arg} (see \`planescope help ${command}\`)`, 2);
      if (arg === '-h') parsed.flags.add('help');
      else parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (flagNames.has(name)) {
      if (eq >= 0) throw new UserError(`${command}: --${name} takes no value`, 2);
      parsed.flags.add(name);
    } else if (valueNames.has(name)) {
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        if (i + 1 >= args.length) throw new UserError(`${command}: --${name} needs a value`, 2);
        value = args[++i];
      }
      const list = parsed.values.get(name) ?? [];
      if (list.length && !(spec.repeatable ?? []).includes(name)) throw new UserError(`${command}: --${name} given twice`, 2);
      list.push(value);
      parsed.values.set(name, list);
    } else {
      throw new UserError(`${command}: unknown option --${name} (see \`planescope help ${command}\`)`, 2);
    }
  }
  return parsed;
}

/** The single value of an option, or the default. */
export function optionValue(parsed: ParsedArgs, name: string, fallback?: string): string | undefined {
  return parsed.values.get(name)?.[0] ?? fallback;
}
