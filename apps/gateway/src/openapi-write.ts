// Writes docs/openapi.json from the schemas: `npx nx run @labrun/gateway:openapi`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from './openapi.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'apps/gateway/package.json'), 'utf8'));
const target = path.join(root, 'docs/openapi.json');
fs.writeFileSync(target, JSON.stringify(openApiDocument(version), null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), target)}`);
