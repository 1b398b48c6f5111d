// Run by `npm ci` / `npm install` in this checkout (prepare): links node_modules/.bin/revmux to
// bin/revmux.js, so `npx revmux` runs this checkout directly. Without the link npx copies the folder
// into its own cache first, and two `npx revmux` started at once raced there (one got a registry 404).
import fs from 'node:fs';
import path from 'node:path';

const bin = path.join('node_modules', '.bin');
if (fs.existsSync('node_modules')) {
  fs.mkdirSync(bin, { recursive: true });
  const link = path.join(bin, 'revmux');
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.join('..', '..', 'bin', 'revmux.js'), link);
}
