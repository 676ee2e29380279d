// The protocol document: what the engine runs. A protocol file (JSON, or TypeScript through libs/protocol)
// always becomes one of these; the engine never runs user code.
import { z } from 'zod';
import { GCODE_LIMITS, gcodeLineProblem } from './gcode-lines.js';

const finite = (what: string) => z.number({ error: `${what} must be a number` }).refine(Number.isFinite, `${what} must be finite`);
const message = z.string().max(2000, { error: 'message must be at most 2000 characters' });

export const HomeCommand = z.strictObject({
  type: z.literal('home'),
  params: z.strictObject({}).optional(),
});

/**
 * What a move can ask of a motion controller, as GRBL reads numbers: G-code carries 3 decimals of a millimetre,
 * so a feed below 0.001 mm/min would be sent as F0 (error:22), and GRBL reads no exponent (1e21 is error:20).
 */
export const MOVE_LIMITS = { coordinateMm: 100_000, feedMin: 0.001, feedMax: 1_000_000 } as const;
const coordinate = (axis: string) => finite(axis).refine((v) => Math.abs(v) <= MOVE_LIMITS.coordinateMm, `${axis} must be between -${MOVE_LIMITS.coordinateMm} and ${MOVE_LIMITS.coordinateMm} mm`);

/** Feed rate in mm/min, as in G-code's F word. `missing`: what to say when a command that needs one has none. */
const feedRate = (missing = 'feed must be a number') =>
  z
    .number({ error: (issue) => (issue.input === undefined ? missing : 'feed must be a number') })
    .refine(Number.isFinite, 'feed must be finite')
    .refine((f) => f > 0, 'feed must be greater than 0')
    .refine((f) => f <= 0 || f >= MOVE_LIMITS.feedMin, `feed must be at least ${MOVE_LIMITS.feedMin} mm/min (G-code carries 3 decimals)`)
    .refine((f) => f <= MOVE_LIMITS.feedMax, `feed must be at most ${MOVE_LIMITS.feedMax} mm/min`);

export const MoveParams = z
  .strictObject({
    x: coordinate('x').optional(),
    y: coordinate('y').optional(),
    z: coordinate('z').optional(),
    feed: feedRate().optional(),
  })
  .refine((p) => p.x !== undefined || p.y !== undefined || p.z !== undefined, {
    error: 'move needs at least one of x, y, z',
  });
export const MoveCommand = z.strictObject({ type: z.literal('move'), params: MoveParams });

const seconds = (what: string) =>
  finite(what)
    .refine((s) => s > 0, `${what} must be greater than 0`)
    .refine((s) => s <= 7 * 24 * 3600, `${what} must be at most a week (604800)`);

export const PauseCommand = z.strictObject({
  type: z.literal('pause'),
  params: z
    .strictObject({
      message: message.optional(),
      /** The protocol resumes itself after this long (a user pause on top holds the countdown; resume ends it early). */
      timeoutSeconds: seconds('timeoutSeconds').optional(),
    })
    .optional(),
});

/** What a topic a protocol names may be: a topic name (no wildcards), not a broker ($) topic, no NUL, MQTT's length. */
const topicName = z
  .string({ error: 'topic must be text, like "lab/reader/request"' })
  .min(1, 'topic must not be empty')
  .max(256, 'topic must be at most 256 characters')
  .refine((t) => !/[+#\u0000]/.test(t), 'topic must be a topic name, without + or # wildcards')
  .refine((t) => !t.startsWith('$'), 'topic must not start with $ (broker topics)');
const topicFilter = z
  .string({ error: 'topic must be text, like "lab/reader/result" or "lab/reader/+"' })
  .min(1, 'topic must not be empty')
  .max(256, 'topic must be at most 256 characters')
  .refine((t) => !t.includes('\u0000'), 'topic must not contain NUL')
  .refine(
    (t) => t.split('/').every((level, i, all) => (level !== '#' || i === all.length - 1) && (!level.includes('#') || level === '#') && (!level.includes('+') || level === '+')),
    'topic: + and # must stand alone in their level, and # only last',
  )
  .refine((t) => !t.startsWith('$'), 'topic must not start with $ (broker topics)');

/** The largest payload a protocol may publish (a JSON value is measured as its JSON text). */
export const PUBLISH_PAYLOAD_LIMIT = 64 * 1024;

export const PublishCommand = z.strictObject({
  type: z.literal('publish'),
  params: z.strictObject({
    topic: topicName,
    /** Text is published as it is; any other JSON value as its JSON text. */
    payload: z
      .json()
      .refine((p) => (typeof p === 'string' ? Buffer.byteLength(p) : Buffer.byteLength(JSON.stringify(p))) <= PUBLISH_PAYLOAD_LIMIT, `payload must be at most ${PUBLISH_PAYLOAD_LIMIT / 1024} KiB`),
    retain: z.boolean().optional(),
  }),
});

export const WaitForCommand = z.strictObject({
  type: z.literal('wait-for'),
  params: z.strictObject({
    /** A topic, or a filter with + and #, in the engine's protocol namespace. */
    topic: topicFilter,
    /** A dotted path into a JSON payload (`result.status`); the whole payload when absent. */
    field: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^.]+(\.[^.]+)*$/, 'field must be a dotted path like "result.status"')
      .optional(),
    /** The value it must equal (any JSON value); any message matches when absent. */
    equals: z.json().optional(),
    timeoutSeconds: seconds('timeoutSeconds').optional(),
    /** What the run says while it waits; by default it names the topic. */
    message: message.optional(),
    /** Whether a message retained before the wait began counts (by default only a new message does). */
    retained: z.boolean().optional(),
  }),
});

export const DelayCommand = z.strictObject({
  type: z.literal('delay'),
  params: z.strictObject({
    seconds: finite('seconds')
      .refine((s) => s > 0, 'seconds must be greater than 0')
      .refine((s) => s <= 7 * 24 * 3600, 'seconds must be at most a week (604800)'),
    message: message.optional(),
  }),
});

export const CommentCommand = z.strictObject({
  type: z.literal('comment'),
  params: z.strictObject({ message }),
});

/**
 * A device output's name in lab words (`pump`, `valve`, `waste_valve`): the hardware service maps it to a
 * controller output (HARDWARE_OUTPUTS). Only the device knows which names it offers; the shape is checked here.
 */
export const OutputName = z
  .string({ error: 'output must be the name of a device output, such as "pump"' })
  .regex(/^[a-z0-9_-]{1,64}$/, { error: 'output must be 1-64 characters of a-z, 0-9, _ and -, such as "pump"' });

export const SetOutputCommand = z.strictObject({
  type: z.literal('set-output'),
  params: z.strictObject(
    {
      output: OutputName,
      /** 0 is off, 1 fully on; between them a proportional output's level (a pump on the spindle's PWM). */
      value: finite('value').refine((v) => v >= 0 && v <= 1, 'value must be from 0 (off) to 1 (fully on), such as 0.5'),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'set-output needs params: { "output": "pump", "value": 0.5 }' : undefined) },
  ),
});

/**
 * Raw G-code for what has no command of its own: each line checked as GRBL 1.1 would read it (gcode-lines.ts), so
 * a line it could not take is refused at create, named by its number.
 */
export const GcodeParams = z.strictObject({
  lines: z
    .array(z.string({ error: 'each G-code line must be text' }), { error: 'gcode needs "lines": a list of G-code lines such as ["G91", "G1 Z-2 F300"]' })
    .min(1, 'gcode needs at least one line')
    .max(GCODE_LIMITS.lines, `gcode takes at most ${GCODE_LIMITS.lines} lines: a short block, not a program`)
    .superRefine((lines, ctx) => {
      lines.forEach((line, i) => {
        const problem = gcodeLineProblem(line);
        if (problem) ctx.addIssue({ code: 'custom', message: `G-code line ${i + 1} ${JSON.stringify(line)}: ${problem}`, path: [i] });
      });
    }),
});
export const GcodeCommand = z.strictObject({ type: z.literal('gcode'), params: GcodeParams });

/** A probe (GRBL `G38.2`) toward a point in deck coordinates, as a move names one, at a feed it must give. */
export const ProbeParams = z
  .strictObject({
    x: coordinate('x').optional(),
    y: coordinate('y').optional(),
    z: coordinate('z').optional(),
    feed: feedRate('probe needs a feed in mm/min: it moves at that speed until the probe touches'),
  })
  .refine((p) => p.x !== undefined || p.y !== undefined || p.z !== undefined, {
    error: 'probe needs at least one of x, y, z: the point it probes toward',
  });
export const ProbeCommand = z.strictObject({ type: z.literal('probe'), params: ProbeParams });

export const COMMAND_TYPES = ['home', 'move', 'pause', 'delay', 'comment', 'publish', 'wait-for', 'set-output', 'gcode', 'probe'] as const;

export const Command = z.discriminatedUnion(
  'type',
  [HomeCommand, MoveCommand, PauseCommand, DelayCommand, CommentCommand, PublishCommand, WaitForCommand, SetOutputCommand, GcodeCommand, ProbeCommand],
  {
    error: (issue) => (issue.code === 'invalid_union' && issue.note === 'No matching discriminator' ? `unknown command type: expected one of ${COMMAND_TYPES.join(', ')}` : undefined),
  },
);
export type Command = z.infer<typeof Command>;
export type CommandType = Command['type'];
// Every command type is in COMMAND_TYPES, and nothing else is.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _allTypes: Same<(typeof COMMAND_TYPES)[number], CommandType> = true;
void _allTypes;

/** zod's words for a missing or mistyped field are "expected object, received undefined": say it in the protocol's. */
const missingOr = (missing: string, wrong: string) => (issue: { input?: unknown }) => (issue.input === undefined ? missing : wrong);

export const ProtocolMetadata = z
  .object(
    {
      name: z
        .string({ error: missingOr('metadata needs a "name": the protocol\'s name, as people will see it', 'metadata.name must be text') })
        .min(1, 'metadata.name must not be empty')
        .max(200),
      description: z.string().max(5000).optional(),
      author: z.string().max(200).optional(),
    },
    { error: missingOr('a protocol needs "metadata": { "name": "…" }', 'metadata must be an object like { "name": "Serial dilution" }') },
  )
  .catchall(z.union([z.string().max(5000), z.number(), z.boolean()]));

export const ProtocolDocument = z.strictObject(
  {
    schemaVersion: z.literal(1, { error: missingOr('a protocol needs "schemaVersion": 1', 'schemaVersion must be 1') }),
    metadata: ProtocolMetadata,
    commands: z
      .array(Command, { error: missingOr('a protocol needs "commands": a list of commands such as { "type": "home" }', 'commands must be a list of commands') })
      .min(1, 'a protocol needs at least one command')
      .max(1_000_000),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'a protocol document is a JSON object: { "schemaVersion": 1, "metadata": { "name": "…" }, "commands": [ … ] }' : undefined) },
);
export type ProtocolDocument = z.infer<typeof ProtocolDocument>;
