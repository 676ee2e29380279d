// Where the installed nx's command-line entry point is, as its package.json says.
import fs from 'node:fs';
import path from 'node:path';

export function nxBin(root) {
  const dir = path.join(root, 'node_modules', 'nx');
  const { bin } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return path.join(dir, typeof bin === 'string' ? bin : bin.nx);
}
