// Which build the benchmarks measure: this checkout's, or the one LABRUN_BUILD_ROOT names (scripts/bench-compare.mjs
// runs this checkout's bench scripts against another revision's build that way). Services start from that build
// through the testkit; a module that loads a library into its own process (the journal, the GRBL driver) loads it
// from there with importBuilt, so nothing a module measures comes from the checkout the scripts live in.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRoot } from '@labrun/testkit';

/** `import(pkg)` as the build's own checkout resolves it: `importBuilt('@labrun/engine')` is its libs/engine/dist. */
export async function importBuilt(pkg) {
  const entry = createRequire(path.join(buildRoot(), 'package.json')).resolve(pkg);
  return import(pathToFileURL(entry).href);
}
