// A protocol written in TypeScript: `labrun run examples/paused.ts` records it into a protocol document
// (home, move, pause with a message, a short delay, move back, a comment) and runs that. When it pauses,
// press Enter in that terminal, or run `labrun resume <runId>` from another one.
import { defineProtocol } from '@labrun/protocol';

export default defineProtocol({ name: 'Paused on purpose', description: 'Pauses itself until someone resumes it.' }, async (ctx) => {
  await ctx.home();
  await ctx.move({ x: 10, y: 5, feed: 3000 });
  await ctx.pause('I am paused now');
  await ctx.delay(2, 'Settle');
  await ctx.move({ x: 0, y: 0, feed: 3000 });
  await ctx.comment('Done');
});
