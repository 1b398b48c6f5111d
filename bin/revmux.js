#!/usr/bin/env node
// The revmux command. An installed package runs the compiled JavaScript in dist/. In a source checkout
// whose src/ is newer than dist/ (or without dist/), tsx compiles src/ on the fly instead, so an edit is
// never shadowed by a stale build; REVMUX_FROM_SOURCE=1 forces that.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const built = path.join(root, 'dist', 'cli', 'main.js');
const src = path.join(root, 'src');

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function useBuild() {
  if (process.env.REVMUX_FROM_SOURCE === '1' || !fs.existsSync(built)) return false;
  if (!fs.existsSync(src)) return true; // an installed package ships dist/ only
  return fs.statSync(built).mtimeMs >= newestMtime(src) && fs.statSync(path.join(root, 'dist', 'index.js')).mtimeMs >= newestMtime(src);
}

if (useBuild()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
