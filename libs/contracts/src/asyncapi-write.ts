// Writes docs/asyncapi.json from the schemas: `npx nx run @labrun/contracts:asyncapi`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncApiDocument } from './asyncapi.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'libs/contracts/package.json'), 'utf8'));
const target = path.join(root, 'docs/asyncapi.json');
fs.writeFileSync(target, JSON.stringify(asyncApiDocument(version), null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), target)}`);
