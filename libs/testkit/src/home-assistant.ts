// Home Assistant's side of MQTT discovery, for tests: templates rendered as Home Assistant renders them — Jinja2,
// with `value_json` the payload parsed as JSON — so a test checks a published template against a real Jinja, not a
// guess; and whether an entity is available by its discovery config's availability list and the flags last seen.
import { spawnSync } from 'node:child_process';
import { requirement } from './external.js';

const RENDER = `
import json, sys, jinja2.sandbox
job = json.load(sys.stdin)
env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.Undefined)
variables = {"value": job["payload"]}
try:
    variables["value_json"] = json.loads(job["payload"])
except ValueError:
    pass  # as Home Assistant: value_json is left undefined when the payload is not JSON
print(env.from_string(job["template"]).render(**variables), end="")
`;

/**
 * The first Python 3 here that has Jinja2: the one on PATH, else Debian's (`apt-get install python3-jinja2` puts
 * Jinja2 in /usr/bin/python3, which a pyenv or virtualenv python3 earlier on PATH does not see).
 */
const python = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import jinja2.sandbox'], { encoding: 'utf8' }).status === 0);

/** Whether Python 3 with Jinja2 is here; in CI a missing one fails the suite. */
export function jinjaAvailable(): boolean {
  return requirement(python !== undefined, 'Python 3 with Jinja2 (to render Home Assistant templates)', 'apt-get install python3-jinja2');
}

/** Render a Home Assistant value template against one MQTT payload. */
export function renderTemplate(template: string, payload: string): string {
  if (!python) throw new Error('no Python 3 with Jinja2 here (apt-get install python3-jinja2)');
  const run = spawnSync(python, ['-c', RENDER], { input: JSON.stringify({ template, payload }), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`Jinja2 could not render ${template}: ${run.stderr}`);
  return run.stdout;
}

export interface Availability {
  topic: string;
  value_template?: string;
  payload_available?: string;
  payload_not_available?: string;
}

/**
 * Whether Home Assistant shows an entity available, by its config's `availability` list and `availability_mode`
 * (`latest` by default, `all`, `any`), given the last payload seen on each topic (undefined: none yet, which counts
 * as not available).
 */
export function entityAvailable(config: { availability?: Availability[]; availability_mode?: string }, last: (topic: string) => string | undefined): boolean {
  const entries = config.availability ?? [];
  if (entries.length === 0) return true;
  const up = entries.map((entry) => {
    const payload = last(entry.topic);
    if (payload === undefined) return false;
    // With a value_template, Home Assistant compares what it renders from the payload (Jinja) instead of the payload.
    const said = entry.value_template === undefined ? payload : renderTemplate(entry.value_template, payload).trim();
    return said === (entry.payload_available ?? 'online');
  });
  if (config.availability_mode === 'all') return up.every(Boolean);
  if (config.availability_mode === 'any') return up.some(Boolean);
  throw new Error('availability_mode latest needs the order the flags came in: not modelled here');
}
