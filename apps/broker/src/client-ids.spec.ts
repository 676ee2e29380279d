// Which client ids each user may connect with: its own, and the services' ids for service users only.
import { describe, expect, it } from 'vitest';
import { clientIdRefusal } from './client-ids.js';

describe('clientIdRefusal', () => {
  it('lets a user use its name, and its name followed by - or : and anything', () => {
    for (const id of ['ana', 'ana-laptop', 'ana-cli-1a2b3c4d', 'ana:dashboard', 'ana-']) expect(clientIdRefusal('ana', 'operator', id)).toBeUndefined();
  });

  it("refuses another user's ids, and ids that merely start with the same letters", () => {
    expect(clientIdRefusal('ana', 'operator', 'bob')).toMatch(/user ana may only use client ids ana, ana-… or ana:…/);
    expect(clientIdRefusal('ana', 'admin', 'bob-laptop')).toBeDefined();
    expect(clientIdRefusal('ana', 'operator', 'anabel')).toBeDefined();
    expect(clientIdRefusal('ana', 'operator', 'mosq-Xyz123')).toBeDefined();
  });

  it("reserves the services' ids for users with the service role", () => {
    expect(clientIdRefusal('engine', 'service', 'labrun-engine-engine-1')).toBeUndefined();
    expect(clientIdRefusal('hardware', 'service', 'labrun-hw-sim-1-1a2b3c4d')).toBeUndefined();
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      expect(clientIdRefusal('ana', role, 'labrun-engine-engine-1')).toMatch(/reserved for the labrun services/);
    }
  });

  it('reserves them even from a user whose own name starts with labrun-', () => {
    expect(clientIdRefusal('labrun-engine', 'operator', 'labrun-engine-engine-1')).toMatch(/reserved/);
  });

  it('lets anyone connect with an empty id, for which the broker makes up a new one', () => {
    expect(clientIdRefusal('vic', 'viewer', '')).toBeUndefined();
  });
});
