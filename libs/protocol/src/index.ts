// @labrun/protocol — write a protocol in TypeScript, get the protocol document the engine runs.
//
//   import { defineProtocol } from '@labrun/protocol';
//   export default defineProtocol({ name: 'Check the samples' }, async (ctx) => {
//     await ctx.home();
//     await ctx.pause('I am paused now');
//   });
//
// `labrun run protocol.ts` loads the file, records its commands with buildProtocol() and sends the document:
// the protocol's code runs once, on the machine of whoever starts the run, never in the engine.
export * from './define.js';
export * from './build.js';
export * from './module.js';
