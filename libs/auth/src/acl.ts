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
const WATCH = ['run/+/status', 'run/+/events', 'run/+/commands', 'hw/+/state', 'hw/+/online', 'engine/+/online', 'engine/+/status', 'gateway/+/online'];
/** What a person at a dashboard, the CLI or a LIMS sends to the engine. */
const CONTROL = ['run/+/create', 'run/+/actions'];

export const ACL: Readonly<Record<Role, RoleRules>> = {
  viewer: { publish: [], subscribe: WATCH },
  operator: { publish: CONTROL, subscribe: WATCH },
  // The engine, hardware and gateway processes. The gateway publishes creates and actions for its HTTP users
  // (it checks their bearer tokens itself), so a service account may control runs like an operator.
  service: {
    publish: [...CONTROL, 'run/+/status', 'run/+/events', 'run/+/commands', 'hw/+/requests', 'hw/+/state', 'hw/+/online', 'engine/+/online', 'engine/+/status', 'engine/+/replies', 'gateway/+/online'],
    subscribe: [...CONTROL, ...WATCH, 'hw/+/requests', 'engine/+/replies'],
  },
  // `#` never matches a topic starting with `$` (MQTT-4.7.2-1), so an admin cannot publish to $SYS either.
  admin: { publish: ['#'], subscribe: ['#', '$SYS/#'] },
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether `topic` matches `filter`, with MQTT's `+` and `#` — which never match a first level starting with `$`. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether every topic `requested` can match is also matched by `allowed`: `run/r-1/status` and `run/+/status` lie inside `run/+/status`, `run/#` does not. */
export function filterWithin(requested: string, allowed: string): boolean {
  const r = requested.split('/');
  const a = allowed.split('/');
  // A wildcard first level in `allowed` covers no `$` topics, so it cannot cover a `$` filter.
  if (requested.startsWith('$') && (a[0] === '+' || a[0] === '#')) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return i === a.length - 1;
    if (i >= r.length) return false;
    if (r[i] === '#') return false; // `#` in the request reaches deeper than any non-`#` level allows
    if (a[i] !== '+' && a[i] !== r[i]) return false; // `+` in the request needs `+` here
  }
  return a.length === r.length;
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
