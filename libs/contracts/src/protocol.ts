// The protocol document: what the engine runs. A protocol file (JSON, or TypeScript through libs/protocol)
// always becomes one of these; the engine never runs user code.
import { z } from 'zod';
import { GCODE_LIMITS, gcodeLineProblem } from './gcode-lines.js';
import { planMoves } from './labware.js';
import { MOVE_LIMITS } from './move-limits.js';

const finite = (what: string) => z.number({ error: `${what} must be a number` }).refine(Number.isFinite, `${what} must be finite`);
const message = z.string().max(2000, { error: 'message must be at most 2000 characters' });

export const HomeCommand = z.strictObject({
  type: z.literal('home'),
  params: z.strictObject({}).optional(),
});

export { MOVE_LIMITS, roundToController } from './move-limits.js';
const coordinate = (axis: string) => finite(axis).refine((v) => Math.abs(v) <= MOVE_LIMITS.coordinateMm, `${axis} must be between -${MOVE_LIMITS.coordinateMm} and ${MOVE_LIMITS.coordinateMm} mm`);

/** Feed rate in mm/min, as in G-code's F word. `missing`: what to say when a command that needs one has none. */
const feedRate = (missing = 'feed must be a number') =>
  z
    .number({ error: (issue) => (issue.input === undefined ? missing : 'feed must be a number') })
    .refine(Number.isFinite, 'feed must be finite')
    .refine((f) => f > 0, 'feed must be greater than 0')
    .refine((f) => f <= 0 || f >= MOVE_LIMITS.feedMin, `feed must be at least ${MOVE_LIMITS.feedMin} mm/min (G-code carries 3 decimals)`)
    .refine((f) => f <= MOVE_LIMITS.feedMax, `feed must be at most ${MOVE_LIMITS.feedMax} mm/min`);

/** A labware's name in a protocol (`plate1`, `tips_300`): what a move's `to` names before the slash. */
export const LabwareName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'a labware name must be 1-64 characters of A-Z, a-z, 0-9, _ and -, such as "plate1"' });

export const MoveParams = z
  .strictObject({
    /** Deck coordinates (mm), or with `relative` offsets from where the move before left the machine. */
    x: coordinate('x').optional(),
    y: coordinate('y').optional(),
    /** With `to`: the height at the well (by default the labware origin's z). */
    z: coordinate('z').optional(),
    /** A well of the protocol's labware, `plate1/A1`, instead of x and y: checked against the labware at create. */
    to: z
      .string({ error: 'to must name a well, like "plate1/A1"' })
      .max(100, 'to must be at most 100 characters')
      .regex(/^[A-Za-z0-9_-]{1,64}\/[^/]*$/, { error: 'to must name a well of the protocol\'s labware, like "plate1/A1"' })
      .optional(),
    relative: z.boolean({ error: 'relative must be true or false' }).optional(),
    feed: feedRate().optional(),
  })
  .refine((p) => p.x !== undefined || p.y !== undefined || p.z !== undefined || p.to !== undefined, {
    error: 'move needs at least one of x, y, z, or a well to go to ("to": "plate1/A1")',
  })
  .refine((p) => p.to === undefined || (p.x === undefined && p.y === undefined), { error: 'a move to a well takes no x or y: the well says where (z, when given, is the height there)' })
  .refine((p) => p.to === undefined || !p.relative, { error: 'a move to a well is not relative: give either "to" or "relative" offsets' });
export const MoveCommand = z.strictObject({ type: z.literal('move'), params: MoveParams });

/** A move as the device carries it out: absolute deck coordinates, and a height to travel at across the deck. */
export const DeviceMoveParams = z
  .strictObject({
    x: coordinate('x').optional(),
    y: coordinate('y').optional(),
    z: coordinate('z').optional(),
    feed: feedRate().optional(),
    /** Rise to this deck height first (G53 G1 Z), move across, then descend to z. */
    travelZ: coordinate('travelZ').optional(),
  })
  .refine((p) => p.x !== undefined || p.y !== undefined || p.z !== undefined, {
    error: 'move needs at least one of x, y, z',
  });

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

const spacing = (axis: string) => finite(`spacing.${axis}`).refine((v) => v > 0 && v <= MOVE_LIMITS.coordinateMm, `spacing.${axis} must be greater than 0 mm and at most ${MOVE_LIMITS.coordinateMm}`);

/** A grid of wells: A1 at `origin`, columns (1, 2, …) along +x, rows (A, B, …) along +y, `spacing` mm apart. */
export const Labware = z.strictObject(
  {
    origin: z.strictObject({ x: coordinate('origin.x'), y: coordinate('origin.y'), z: coordinate('origin.z') }, { error: 'labware needs "origin": { "x": …, "y": …, "z": … }, where well A1 is' }),
    rows: z.int({ error: 'rows must be a whole number' }).min(1, 'rows must be at least 1').max(26, 'rows must be at most 26 (A to Z)'),
    columns: z.int({ error: 'columns must be a whole number' }).min(1, 'columns must be at least 1').max(99, 'columns must be at most 99'),
    spacing: z.strictObject({ x: spacing('x'), y: spacing('y') }, { error: 'labware needs "spacing": { "x": 9, "y": 9 }, the mm between wells' }),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'a labware is { "origin": { "x", "y", "z" }, "rows": 8, "columns": 12, "spacing": { "x": 9, "y": 9 } }' : undefined) },
);

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

export const ProtocolDocument = z
  .strictObject(
    {
      schemaVersion: z.literal(1, { error: missingOr('a protocol needs "schemaVersion": 1', 'schemaVersion must be 1') }),
      metadata: ProtocolMetadata,
      commands: z
        .array(Command, { error: missingOr('a protocol needs "commands": a list of commands such as { "type": "home" }', 'commands must be a list of commands') })
        .min(1, 'a protocol needs at least one command')
        .max(1_000_000),
      /** Labware by name: grids of wells that moves name as `plate1/A1` (see labware.ts). */
      labware: z
        .record(LabwareName, Labware, {
          error: (issue) =>
            issue.code === 'invalid_type'
              ? 'labware must be an object of named grids: { "plate1": { "origin": { … }, "rows": 8, "columns": 12, "spacing": { … } } }'
              : issue.code === 'invalid_key'
                ? `labware name ${JSON.stringify(issue.input)}: a labware name must be 1-64 characters of A-Z, a-z, 0-9, _ and -, such as "plate1"`
                : undefined,
        })
        .optional(),
      /** A deck height (mm) a move to labware rises to before it moves across, then descends from. */
      travelHeight: coordinate('travelHeight').optional(),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'a protocol document is a JSON object: { "schemaVersion": 1, "metadata": { "name": "…" }, "commands": [ … ] }' : undefined) },
  )
  .superRefine((protocol, ctx) => {
    // Wells, relative moves and the machine's travel are checked here, so the CLI, the gateway and the engine all
    // refuse a typo in a well name at create rather than mid-run.
    if (!Array.isArray(protocol.commands)) return;
    for (const problem of planMoves(protocol).problems) ctx.addIssue({ code: 'custom', message: problem.message, path: ['commands', problem.index, 'params', problem.field] });
  });
export type ProtocolDocument = z.infer<typeof ProtocolDocument>;
