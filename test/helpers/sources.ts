// The TypeScript files under a folder, for the tests that read the code itself (style, where switches live).
import fs from 'node:fs';
import path from 'node:path';

export function sources(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
}
