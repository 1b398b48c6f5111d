// Options of the `npm run bench:* / experiment:*` scripts: strict, so a mistyped flag stops the script with
// its name instead of running minutes or hours of work on the defaults; --help prints the script's usage.
import { parseArgs } from 'node:util';

type Defaults = Record<string, string | boolean | readonly string[] | undefined>;
type Values<D extends Defaults> = {
  [K in keyof D]: D[K] extends boolean
    ? boolean
    : D[K] extends string
      ? string
      : D[K] extends readonly string[]
        ? string[]
        : string | undefined;
};

/**
 * Parses process.argv against `defaults`: a string default makes a string option, `false` a flag, `[]` an
 * option that may repeat, `undefined` an optional string option. Positional arguments are refused unless
 * `positionals` is set.
 */
export function scriptArgs<const D extends Defaults>(
  usage: string,
  defaults: D,
  o: { positionals?: boolean; argv?: string[] } = {},
): { values: Values<D>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const [name, d] of Object.entries(defaults))
    options[name] = { type: typeof d === 'boolean' ? 'boolean' : 'string', multiple: Array.isArray(d) };
  let parsed;
  try {
    parsed = parseArgs({ args: o.argv ?? process.argv.slice(2), options, allowPositionals: o.positionals ?? false });
  } catch (e) {
    throw new Error(`${(e as Error).message}\nusage: ${usage}`);
  }
  if (parsed.values.help) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  const values = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(parsed.values)) if (k !== 'help') values[k] = v;
  return { values: values as Values<D>, positionals: parsed.positionals };
}

/** A numeric option's value, or an error that names the option. */
export function numberArg(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got '${value}'`);
  return n;
}
