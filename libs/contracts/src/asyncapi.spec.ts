import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from './asyncapi.js';
import { HW_TOPIC_KINDS, RUN_TOPIC_KINDS, topics } from './topics.js';

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
      'gateway/{gatewayId}/online',
      'hw/{deviceId}/online',
      'hw/{deviceId}/requests',
      'hw/{deviceId}/state',
      'labrun/ha/online',
      'labrun/ha/{deviceId}/action',
      'labrun/ha/{deviceId}/engine',
      'run/{runId}/actions',
      'run/{runId}/commands',
      'run/{runId}/create',
      'run/{runId}/events',
      'run/{runId}/status',
    ]);
    expect(doc.channels.runStatus.messages.status.payload).toEqual({ $ref: '#/components/schemas/RunStatusDocument' });
    const status = doc.components.schemas.RunStatusDocument as { properties: Record<string, unknown>; required: string[] };
    expect(status.required).toEqual(expect.arrayContaining(['runId', 'status', 'pause', 'allowedActions', 'seq']));
  });

  it('has a channel for every topic topics.ts builds, and no other', () => {
    // Each builder called with a placeholder id; subscriptions (all…) are filters, not topics.
    const built = Object.entries(topics).flatMap(([name, build]) => {
      if (name.startsWith('all')) return [];
      if (name === 'run') return RUN_TOPIC_KINDS.map((kind) => topics.run('{}', kind));
      if (name === 'hw') return HW_TOPIC_KINDS.map((kind) => topics.hw('{}', kind));
      return [(build as (id: string) => string)('{}')];
    });
    const channels = Object.values(asyncApiDocument(version).channels).map((c) => c.address.replace(/\{\w+\}/g, '{}'));
    expect(channels.sort()).toEqual(built.sort());
  });

  // What AsyncAPI's own tools (the /docs/mqtt renderer among them) read it with: every $ref must resolve in the document.
  it('is a valid AsyncAPI 3.0 document to @asyncapi/parser, with no error', async () => {
    const errors = (doc: unknown) => new Parser().validate(doc as never).then((diagnostics) => diagnostics.filter((d) => d.severity === 0).map((d) => d.message));
    expect(await errors(asyncApiDocument(version))).toEqual([]);
    const dangling = asyncApiDocument(version);
    dangling.channels.runStatus.messages.status.payload = { $ref: '#/$defs/__schema0' };
    expect(await errors(dangling)).toEqual([expect.stringContaining('does not exist')]);
  });

  it('is committed up to date in docs/asyncapi.json (regenerate: npx nx run @labrun/contracts:asyncapi)', () => {
    const fresh = JSON.stringify(asyncApiDocument(version), null, 2) + '\n';
    expect(fs.readFileSync(committed, 'utf8')).toBe(fresh);
  });
});
