import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from './asyncapi.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const committed = path.resolve(here, '../../../docs/asyncapi.json');
const version = JSON.parse(fs.readFileSync(path.resolve(here, '../package.json'), 'utf8')).version;

describe('the AsyncAPI document', () => {
  it('describes every topic of the contract', () => {
    const doc = asyncApiDocument(version);
    expect(
      Object.values(doc.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual([
      'device/{deviceId}/current',
      'engine/{engineId}/online',
      'engine/{engineId}/replies',
      'engine/{engineId}/status',
      'hw/{deviceId}/online',
      'hw/{deviceId}/requests',
      'hw/{deviceId}/state',
      'run/{runId}/actions',
      'run/{runId}/commands',
      'run/{runId}/create',
      'run/{runId}/events',
      'run/{runId}/status',
    ]);
    const status = doc.channels.runStatus.messages.status.payload as { properties: Record<string, unknown>; required: string[] };
    expect(status.required).toEqual(expect.arrayContaining(['runId', 'status', 'pause', 'allowedActions', 'seq']));
  });

  it('is committed up to date in docs/asyncapi.json (regenerate: npx nx run @labrun/contracts:asyncapi)', () => {
    const fresh = JSON.stringify(asyncApiDocument(version), null, 2) + '\n';
    expect(fs.readFileSync(committed, 'utf8')).toBe(fresh);
  });
});
