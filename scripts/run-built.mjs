// What every labrun bin (apps/*/bin/*.js, libs/grbl/bin) does: run the build's entry point, or say how to build
// it. The bins are committed files so that npm links them from the first `npm ci` on, before anything is built.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Run `entry` (a file: URL), or tell the user that `name` is not built yet and exit 1. */
export async function runBuilt(name, entry) {
  if (!fs.existsSync(entry)) {
    process.stderr.write(`${name} is not built yet: run \`npm run build\` (or \`npm start\`, which builds first) in ${root}\n`);
    process.exit(1);
  }
  await import(entry.href);
}
