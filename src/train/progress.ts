// One progress line per phase: a live bar on a terminal, periodic plain lines in CI logs.
import cliProgress from 'cli-progress';

export interface ProgressFields {
  [k: string]: string | number;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastPrint = 0;
  private readonly tty = !!process.stderr.isTTY && !process.env.CI;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly quiet = false,
  ) {
    if (this.quiet) return;
    if (this.tty) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${label} |{bar}| {value}/{total} {fields} eta {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { fields: '' });
    }
  }

  update(value: number, fields: ProgressFields = {}): void {
    if (this.quiet) return;
    const text = Object.entries(fields)
      .map(([k, v]) => `${k} ${typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(4)) : v}`)
      .join(' ');
    if (this.bar) this.bar.update(value, { fields: text });
    else if (Date.now() - this.lastPrint > 15000 || value === this.total) {
      this.lastPrint = Date.now();
      // total 0: a time budget
      process.stderr.write(`${this.label} ${this.total > 0 ? `${value}/${this.total}` : `step ${value}`} ${text}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }
}
