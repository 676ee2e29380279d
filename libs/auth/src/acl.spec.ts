// The role rules, topic by topic: who may publish where and subscribe to what.
import { describe, expect, it } from 'vitest';
import { filterWithin, mayPublish, maySubscribe, ROLES, topicMatches, type Role } from './acl.js';

const ALL = new Set<Role>(ROLES);
const NOBODY = new Set<Role>();
const only = (...roles: Role[]) => new Set<Role>(roles);

describe('publishing', () => {
  const table: [topic: string, allowed: Set<Role>][] = [
    ['run/r-1/create', only('operator', 'service', 'admin')],
    ['run/r-1/actions', only('operator', 'service', 'admin')],
    ['run/r-1/status', only('service', 'admin')],
    ['run/r-1/events', only('service', 'admin')],
    ['run/r-1/commands', only('service', 'admin')],
    ['hw/sim-1/requests', only('service', 'admin')],
    ['hw/sim-1/state', only('service', 'admin')],
    ['hw/sim-1/online', only('service', 'admin')],
    ['device/sim-1/current', only('service', 'admin')],
    ['engine/engine-1/online', only('service', 'admin')],
    ['engine/engine-1/replies', only('service', 'admin')],
    ['gateway/gateway-1/online', only('service', 'admin')],
    ['device/sim-1/current', only('service', 'admin')],
    ['run/r-1/other', only('admin')],
    ['run/r-1/actions/extra', only('admin')],
    ['run/actions', only('admin')],
    // Protocols' publish and wait-for run in the engine, a service: lab/# is theirs (and the admin's).
    ['lab/notes', only('service', 'admin')],
    ['factory/notes', only('admin')],
    ['$SYS/broker/uptime', NOBODY],
    ['$SYS', NOBODY],
    ['$labrun/discarded', NOBODY],
    ['$share/group/run/r-1/actions', NOBODY],
  ];
  for (const [topic, allowed] of table) {
    it(`lets ${allowed.size === 0 ? 'nobody' : [...allowed].join(', ')} publish to ${topic}`, () => {
      for (const role of ROLES) expect(mayPublish(role, topic), role).toBe(allowed.has(role));
    });
  }

  it('lets nobody publish to a topic with wildcards in it', () => {
    for (const topic of ['run/+/actions', 'run/#', '#']) for (const role of ROLES) expect(mayPublish(role, topic), `${role} ${topic}`).toBe(false);
  });
});

describe('subscribing', () => {
  const WATCHERS = ALL;
  const table: [filter: string, allowed: Set<Role>][] = [
    ['run/+/status', WATCHERS],
    ['run/+/events', WATCHERS],
    ['run/+/commands', WATCHERS],
    ['run/r-1/status', WATCHERS],
    ['hw/+/state', WATCHERS],
    ['hw/sim-1/online', WATCHERS],
    ['hw/+/online', WATCHERS],
    ['device/+/current', WATCHERS],
    ['device/sim-1/current', WATCHERS],
    ['engine/+/online', WATCHERS],
    ['gateway/+/online', WATCHERS],
    ['engine/+/status', WATCHERS],
    ['device/+/current', WATCHERS],
    ['device/sim-1/current', WATCHERS],
    ['device/#', only('admin')],
    ['run/+/create', only('service', 'admin')],
    ['run/+/actions', only('service', 'admin')],
    ['run/r-1/actions', only('service', 'admin')],
    ['hw/+/requests', only('service', 'admin')],
    ['hw/sim-1/requests', only('service', 'admin')],
    ['engine/+/replies', only('service', 'admin')],
    ['engine/engine-1/replies', only('service', 'admin')],
    // Broader than any viewer, operator or service filter.
    ['run/+/+', only('admin')],
    ['run/r-1/#', only('admin')],
    ['run/#', only('admin')],
    ['+/+/status', only('admin')],
    ['hw/#', only('admin')],
    ['#', only('admin')],
    ['+', only('admin')],
    ['lab/notes', only('service', 'admin')],
    ['lab/#', only('service', 'admin')],
    ['factory/notes', only('admin')],
    ['run/+/status/#', only('admin')],
    ['$SYS/#', only('admin')],
    ['$SYS/+/clients/connected', only('admin')],
    ['$labrun/discarded', NOBODY],
    ['$labrun/#', NOBODY],
    ['$share/group/run/+/status', NOBODY],
  ];
  for (const [filter, allowed] of table) {
    it(`lets ${allowed.size === 0 ? 'nobody' : [...allowed].join(', ')} subscribe to ${filter}`, () => {
      for (const role of ROLES) expect(maySubscribe(role, filter), role).toBe(allowed.has(role));
    });
  }
});

describe('topic filters', () => {
  it('matches topics as MQTT does, keeping wildcards off $ topics', () => {
    const cases: [string, string, boolean][] = [
      ['run/+/status', 'run/r-1/status', true],
      ['run/+/status', 'run/r-1/events', false],
      ['run/+/status', 'run/status', false],
      ['run/#', 'run', true],
      ['run/#', 'run/r-1/status', true],
      ['#', 'anything/at/all', true],
      ['#', '$SYS/broker', false],
      ['+/broker', '$SYS/broker', false],
      ['$SYS/#', '$SYS/broker', true],
      ['run/+', 'run/r-1/status', false],
    ];
    for (const [filter, topic, expected] of cases) expect(topicMatches(filter, topic), `${filter} ~ ${topic}`).toBe(expected);
  });

  it('knows when one filter lies entirely inside another', () => {
    const cases: [string, string, boolean][] = [
      ['run/+/status', 'run/+/status', true],
      ['run/r-1/status', 'run/+/status', true],
      ['run/+/status', 'run/r-1/status', false],
      ['run/#', 'run/+/status', false],
      ['run/+/+', 'run/+/status', false],
      ['run/+/status', '#', true],
      ['run/#', '#', true],
      ['$SYS/#', '#', false],
      ['$SYS/x', '+/x', false],
      ['$SYS/x', '$SYS/#', true],
      ['run/+/status/x', 'run/+/status', false],
      ['run/+', 'run/+/status', false],
    ];
    for (const [requested, allowed, expected] of cases) expect(filterWithin(requested, allowed), `${requested} within ${allowed}`).toBe(expected);
  });
});
