#!/usr/bin/env node
// The `labrun-hardware` command as npm links it. This file is committed (and executable), so the link exists from the
// first `npm ci` on, before anything is built; the command itself is the build's dist/main.js.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (!fs.existsSync(entry)) {
  process.stderr.write(`labrun-hardware is not built yet: run \`npm run build\` (or \`npm start\`, which builds first) in ${fileURLToPath(new URL('../../..', import.meta.url))}\n`);
  process.exit(1);
}
await import(entry.href);
