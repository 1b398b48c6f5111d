// Option parsers for commander that reject bad numbers with the option's value in the message.
import { InvalidArgumentError } from 'commander';

export function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`'${value}' is not an integer`);
  return n;
}

export function num(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return n;
}

export function intList(value: string): number[] {
  return value.split(',').map((v) => int(v.trim()));
}
