// Who may do what on the broker: each role's topic filters for publishing and for subscribing, and the two
// questions the broker asks of them. Pure: the broker's hooks (auth.ts) and the docs (docs/security.md) follow it.

export const ROLES = ['viewer', 'operator', 'service', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface RoleRules {
  /** Topics this role may publish to (and name as its last will), as MQTT filters. */
  publish: readonly string[];
  /** The widest filters this role may subscribe to: a subscription must lie entirely inside one of them. */
  subscribe: readonly string[];
}

/** What anyone who may watch sees: runs, their commands, devices and which services are up. */
const WATCH = ['run/+/status', 'run/+/events', 'run/+/commands', 'hw/+/state', 'hw/+/online', 'engine/+/online', 'engine/+/status', 'gateway/+/online', 'device/+/current'];
/** What a person at a dashboard, the CLI or a LIMS sends to the engine. */
const CONTROL = ['run/+/create', 'run/+/actions'];

export const ACL: Readonly<Record<Role, RoleRules>> = {
  viewer: { publish: [], subscribe: WATCH },
  operator: { publish: CONTROL, subscribe: WATCH },
  // The engine, hardware and gateway processes. The gateway publishes creates and actions for its HTTP users
  // (it checks their bearer tokens itself), so a service account may control runs like an operator.
  // It also carries out protocols' publish and wait-for, under lab/# (LABRUN_PROTOCOL_TOPICS' default).
  service: {
    publish: [
      ...CONTROL,
      'lab/#',
      'run/+/status',
      'run/+/events',
      'run/+/commands',
      'hw/+/requests',
      'hw/+/state',
      'hw/+/online',
      'engine/+/online',
      'engine/+/status',
      'engine/+/replies',
      'gateway/+/online',
      'device/+/current',
    ],
    subscribe: [...CONTROL, ...WATCH, 'hw/+/requests', 'engine/+/replies', 'lab/#'],
  },
  // `#` never matches a topic starting with `$` (MQTT-4.7.2-1), so an admin cannot publish to $SYS either.
  admin: { publish: ['#'], subscribe: ['#', '$SYS/#'] },
};

import { filterWithin, topicMatches } from '@labrun/contracts';

export { filterWithin, topicMatches };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether `role` may publish to `topic` (a topic name, no wildcards). Nobody publishes to a `$` topic. */
export function mayPublish(role: Role, topic: string): boolean {
  if (topic.startsWith('$') || topic.includes('+') || topic.includes('#')) return false;
  return ACL[role].publish.some((filter) => topicMatches(filter, topic));
}

/** Whether `role` may subscribe to `filter`: only when it lies entirely inside one of the role's filters. */
export function maySubscribe(role: Role, filter: string): boolean {
  return ACL[role].subscribe.some((allowed) => filterWithin(filter, allowed));
}
