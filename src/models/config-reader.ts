// Reading config.json fields with types, ranges and transformers' defaults; every error names the
// file and the field. Each architecture module parses its own config with it.
import type { Activation } from '../nn/layers.js';

export interface BaseConfig {
  architectures?: string[];
  /** Hugging Face label maps, when the checkpoint is a classifier. */
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  _name_or_path?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Json = Record<string, unknown>;

export const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'tanh'];

/** Reads typed fields with defaults, reporting `file: field ...` on a bad value. */
export class ConfigReader {
  constructor(
    readonly json: Json,
    readonly where: string,
  ) {}

  private fail(field: string, want: string): never {
    throw new ConfigError(`${this.where}: "${field}" must be ${want}, got ${JSON.stringify(this.json[field])}`);
  }

  int(field: string, dflt?: number, min = 1): number {
    const v = this.json[field] ?? dflt;
    if (v === undefined) throw new ConfigError(`${this.where}: missing required field "${field}"`);
    if (!Number.isInteger(v) || (v as number) < min) this.fail(field, `an integer >= ${min}`);
    return v as number;
  }

  num(field: string, dflt: number, min = 0, max = Infinity): number {
    const v = this.json[field] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      this.fail(field, `a number in [${min}, ${max}]`);
    return v as number;
  }

  bool(field: string, dflt: boolean): boolean {
    const v = this.json[field] ?? dflt;
    if (typeof v !== 'boolean') this.fail(field, 'true or false');
    return v as boolean;
  }

  str<T extends string>(field: string, dflt: T, allowed?: readonly T[]): T {
    const v = this.json[field] ?? dflt;
    if (typeof v !== 'string' || (allowed && !allowed.includes(v as T)))
      this.fail(field, allowed ? `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}` : 'a string');
    return v as T;
  }

  optInt(field: string, min = 0): number | null {
    const v = this.json[field];
    if (v === undefined || v === null) return null;
    if (!Number.isInteger(v) || (v as number) < min) this.fail(field, `an integer >= ${min} or null`);
    return v as number;
  }

  /** Number of labels: from id2label when present, else num_labels (default 2). */
  numLabels(): number {
    const j = this.json;
    if (j.id2label && typeof j.id2label === 'object') return Object.keys(j.id2label).length;
    return this.int('num_labels', 2);
  }

  /** A number that may be absent or null (e.g. classifier_dropout). */
  optNum(field: string, min = 0, max = Infinity): number | null {
    const v = this.json[field];
    if (v === undefined || v === null) return null;
    return this.num(field, 0, min, max);
  }

  base(): BaseConfig {
    const b: BaseConfig = {};
    if (Array.isArray(this.json.architectures)) b.architectures = this.json.architectures as string[];
    if (this.json.id2label && typeof this.json.id2label === 'object')
      b.id2label = this.json.id2label as Record<string, string>;
    if (this.json.label2id && typeof this.json.label2id === 'object')
      b.label2id = this.json.label2id as Record<string, number>;
    if (typeof this.json._name_or_path === 'string') b._name_or_path = this.json._name_or_path;
    return b;
  }
}
