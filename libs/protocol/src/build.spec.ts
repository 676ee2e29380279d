// Unit tests of the authoring API: what a protocol body records, and how a bad protocol is explained.
import { describe, expect, it } from 'vitest';
import { buildProtocol, defineProtocol, isProtocolDefinition, protocolFromModule } from './index.js';

describe('buildProtocol', () => {
  it('records the architecture example, command by command, in order', async () => {
    const dilution = defineProtocol({ name: 'Serial dilution', author: 'ana' }, async (ctx) => {
      await ctx.home();
      await ctx.move({ x: 10, y: 20, z: 5, feed: 3000 });
      await ctx.pause('Check the samples');
      await ctx.delay(30, 'Incubate');
      await ctx.setOutput('pump', 0.5);
      await ctx.comment('Done');
    });
    expect(await buildProtocol(dilution)).toEqual({
      schemaVersion: 1,
      metadata: { name: 'Serial dilution', author: 'ana' },
      commands: [
        { type: 'home' },
        { type: 'move', params: { x: 10, y: 20, z: 5, feed: 3000 } },
        { type: 'pause', params: { message: 'Check the samples' } },
        { type: 'delay', params: { seconds: 30, message: 'Incubate' } },
        { type: 'set-output', params: { output: 'pump', value: 0.5 } },
        { type: 'comment', params: { message: 'Done' } },
      ],
    });
  });

  it('records the deck a protocol declares, and moves to its wells and by offsets', async () => {
    const plate1 = { origin: { x: 10, y: 20, z: 5 }, rows: 8, columns: 12, spacing: { x: 9, y: 9 } };
    const transfer = defineProtocol(
      { name: 'Transfer' },
      async (ctx) => {
        await ctx.move({ to: 'plate1/A1', feed: 3000 });
        await ctx.move({ z: -2, relative: true });
      },
      { labware: { plate1 }, travelHeight: 40 },
    );
    expect(await buildProtocol(transfer)).toEqual({
      schemaVersion: 1,
      metadata: { name: 'Transfer' },
      labware: { plate1 },
      travelHeight: 40,
      commands: [
        { type: 'move', params: { to: 'plate1/A1', feed: 3000 } },
        { type: 'move', params: { z: -2, relative: true } },
      ],
    });
  });

  it('explains a well the deck does not have, naming the command', async () => {
    const typo = defineProtocol({ name: 'Typo' }, (ctx) => ctx.move({ to: 'plate1/I13' }), { labware: { plate1: { origin: { x: 0, y: 0, z: 0 }, rows: 8, columns: 12, spacing: { x: 9, y: 9 } } } });
    await expect(buildProtocol(typo)).rejects.toThrow("command 1 (move) names plate1/I13, outside plate1's 8 × 12 grid: its wells are A1 to H12");
  });

  it('records the commands that talk to other instruments, and a pause that resumes by itself', async () => {
    const reader = defineProtocol({ name: 'Plate reader handshake' }, async (ctx) => {
      await ctx.publish('lab/reader/request', { plate: 'P1', wavelength: 450 });
      await ctx.waitFor('lab/reader/result', { field: 'status', equals: 'done', timeoutSeconds: 120, message: 'reading the plate' });
      await ctx.pause('Let it settle', { timeoutSeconds: 30 });
      await ctx.publish('lab/log', 'done', { retain: true });
      await ctx.waitFor('lab/incubator/ready');
    });
    expect((await buildProtocol(reader)).commands).toEqual([
      { type: 'publish', params: { topic: 'lab/reader/request', payload: { plate: 'P1', wavelength: 450 } } },
      { type: 'wait-for', params: { topic: 'lab/reader/result', field: 'status', equals: 'done', timeoutSeconds: 120, message: 'reading the plate' } },
      { type: 'pause', params: { message: 'Let it settle', timeoutSeconds: 30 } },
      { type: 'publish', params: { topic: 'lab/log', payload: 'done', retain: true } },
      { type: 'wait-for', params: { topic: 'lab/incubator/ready' } },
    ]);
  });

  it('explains a wait-for or publish the engine would refuse, before anything runs', async () => {
    const bad = defineProtocol({ name: 'bad' }, async (ctx) => {
      await ctx.waitFor('lab/#/x');
    });
    await expect(buildProtocol(bad)).rejects.toThrow(/\+ and # must stand alone in their level, and # only last/);
  });

  it('leaves out what the protocol did not say: a bare pause, a delay without message, unset axes', async () => {
    const document = await buildProtocol(
      defineProtocol({ name: 'bare' }, async (ctx) => {
        await ctx.pause();
        await ctx.delay(2);
        await ctx.move({ x: 1, y: undefined });
      }),
    );
    expect(document.commands).toEqual([{ type: 'pause' }, { type: 'delay', params: { seconds: 2 } }, { type: 'move', params: { x: 1 } }]);
    expect(JSON.stringify(document.commands[2])).toBe('{"type":"move","params":{"x":1}}');
  });

  it('records a G-code block and a probe', async () => {
    const lines = ['G91', 'G1 Z-2 F300'];
    const document = await buildProtocol(
      defineProtocol({ name: 'tips' }, async (ctx) => {
        await ctx.gcode(lines);
        lines.push('G90'); // the block recorded is the one given at the call
        await ctx.probe({ z: 20, feed: 100, x: undefined });
      }),
    );
    expect(document.commands).toEqual([
      { type: 'gcode', params: { lines: ['G91', 'G1 Z-2 F300'] } },
      { type: 'probe', params: { z: 20, feed: 100 } },
    ]);
  });

  it('accepts a synchronous body and loops, as ordinary code', async () => {
    const wells = defineProtocol({ name: 'wells', description: 'three wells' }, (ctx) => {
      for (const x of [0, 9, 18]) void ctx.move({ x });
    });
    const document = await buildProtocol(wells);
    expect(document.metadata).toEqual({ name: 'wells', description: 'three wells' });
    expect(document.commands.map((c) => c.type === 'move' && c.params.x)).toEqual([0, 9, 18]);
  });

  it('records afresh on every build', async () => {
    const once = defineProtocol({ name: 'once' }, (ctx) => ctx.comment('hello'));
    expect(await buildProtocol(once)).toEqual(await buildProtocol(once));
    expect((await buildProtocol(once)).commands).toHaveLength(1);
  });

  it.each([
    ['a move without an axis', (ctx: any) => ctx.move({ feed: 100 }), 'move needs at least one of x, y, z'],
    ['a delay of no time', (ctx: any) => ctx.delay(0), 'seconds must be greater than 0'],
    ['a coordinate that is not a number', (ctx: any) => ctx.move({ x: '10' }), 'x must be a number'],
    ['an output level given in percent', (ctx: any) => ctx.setOutput('pump', 50), 'value must be from 0 (off) to 1 (fully on)'],
    ['a G-code line with a $ command', (ctx: any) => ctx.gcode(['G91', '$X']), 'G-code line 2 "$X"'],
    ['a probe without a feed', (ctx: any) => ctx.probe({ z: 0 }), 'probe needs a feed in mm/min'],
    ['no commands at all', () => undefined, 'a protocol needs at least one command'],
  ])('refuses %s with zod’s readable message', async (_what, body, reason) => {
    const failure = buildProtocol(defineProtocol({ name: 'bad' }, body));
    await expect(failure).rejects.toThrow(reason);
    await expect(failure).rejects.toThrow(/✖ .*\n\s+→ at /);
  });

  it('refuses empty metadata.name, naming the field', async () => {
    await expect(buildProtocol(defineProtocol({ name: '' }, (ctx) => ctx.home()))).rejects.toThrow('✖ metadata.name must not be empty\n  → at metadata.name');
  });

  it('names the protocol when its body throws, keeping the error as the cause', async () => {
    const boom = new Error('no plate loaded');
    const failure = buildProtocol(
      defineProtocol({ name: 'crashy' }, async () => {
        throw boom;
      }),
    );
    await expect(failure).rejects.toThrow('protocol "crashy" failed while recording its commands: no plate loaded');
    await expect(failure).rejects.toHaveProperty('cause', boom);
  });

  it('refuses a command recorded after the body finished, instead of losing it', async () => {
    let late: Promise<unknown> | undefined;
    let pump: Promise<unknown> | undefined;
    const leaky = defineProtocol({ name: 'leaky' }, (ctx) => {
      setTimeout(() => (late = ctx.comment('too late').catch((error: unknown) => error)), 0);
      setTimeout(() => (pump = ctx.setOutput('pump', 1).catch((error: unknown) => error)), 0);
      return ctx.home();
    });
    const document = await buildProtocol(leaky);
    await new Promise((r) => setTimeout(r, 10));
    expect(document.commands).toEqual([{ type: 'home' }]);
    expect(await late).toEqual(new Error('ctx.comment() was called after the protocol body finished: await every ctx call'));
    expect(await pump).toEqual(new Error('ctx.setOutput() was called after the protocol body finished: await every ctx call'));
  });
});

describe('defineProtocol', () => {
  it('returns a definition that can be recognised after an import', () => {
    const definition = defineProtocol({ name: 'x' }, (ctx) => ctx.home());
    expect(isProtocolDefinition(definition)).toBe(true);
    expect(isProtocolDefinition({ name: 'x' })).toBe(false);
    expect(Object.isFrozen(definition)).toBe(true);
  });
});

describe('metadata beyond name, description and author', () => {
  it('records extra strings, numbers and booleans, and leaves out undefined ones', async () => {
    const document = await buildProtocol(defineProtocol({ name: 'plates', plate: '96-well', version: 3, validated: true, note: undefined }, (ctx) => ctx.home()));
    expect(document.metadata).toEqual({ name: 'plates', plate: '96-well', version: 3, validated: true });
  });
});

describe('protocolFromModule', () => {
  const definition = defineProtocol({ name: 'x' }, (ctx) => ctx.home());

  it('finds the default export of an ES module, and of a CommonJS one (one level deeper)', () => {
    expect(protocolFromModule({ default: definition }, 'p.ts')).toBe(definition);
    expect(protocolFromModule({ default: { default: definition, __esModule: true } }, 'p.ts')).toBe(definition);
  });

  it('names the file and says how to export a protocol when there is none', () => {
    expect(() => protocolFromModule({ protocol: definition }, 'p.ts')).toThrow('p.ts does not export a protocol: it has no default export. Write export default defineProtocol(');
    expect(() => protocolFromModule({ default: { __esModule: true, protocol: definition } }, 'p.ts')).toThrow('p.ts does not export a protocol: it has no default export');
    expect(() => protocolFromModule({ default: { name: 'x' } }, 'q.ts')).toThrow('q.ts does not export a protocol: its default export is not a protocol made by defineProtocol');
    expect(() => protocolFromModule(null, 'r.ts')).toThrow('r.ts does not export a protocol');
  });
});
