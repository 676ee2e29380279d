// What durability costs on this disk: the engine's journal (libs/engine FileJournal) appending events and making
// them durable (one write, one fdatasync per group commit), as the engine does before it publishes anything.
// One event at a time is most of the gap between resume latency and the raw MQTT floor; one event for each of
// 1,000 runs is what resuming 1,000 runs at once asks of it. No broker is involved: measured once.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { importBuilt } from './build.mjs';
import { latencyFigures, now } from './stats.mjs';

const at = new Date().toISOString();
const created = (runId) => ({
  type: 'run.created',
  runId,
  seq: 1,
  at,
  deviceId: 'bench',
  protocol: { schemaVersion: 1, metadata: { name: 'bench' }, commands: [{ type: 'pause', params: { message: 'wait' } }] },
});
const resumed = (runId, seq) => ({ type: 'action.accepted', runId, seq, at, actionId: `a-${runId}-${seq}`, action: 'resume', by: null, message: null, mode: null });

export async function run() {
  const { FileJournal } = await importBuilt('@labrun/engine');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labrun-bench-journal-'));
  try {
    const { journal } = await FileJournal.open(dir);
    journal.append(created('one'));
    await journal.flush();
    const one = [];
    for (let seq = 2; seq < 2002; seq++) {
      const start = now();
      journal.append(resumed('one', seq));
      await journal.flush();
      one.push(now() - start);
    }
    const ids = Array.from({ length: 1000 }, (_, i) => `run-${i}`);
    for (const id of ids) journal.append(created(id));
    await journal.flush();
    const many = [];
    for (let seq = 2; seq < 102; seq++) {
      const start = now();
      for (const id of ids) journal.append(resumed(id, seq));
      await journal.flush();
      many.push(now() - start);
    }
    await journal.close();
    return {
      name: 'Journal: append and fdatasync',
      description:
        `The engine's journal on ${os.tmpdir()}: one event appended and made durable, 2,000 times; and one event for each of 1,000 runs in ` +
        'one group commit (one write, one fdatasync), 100 times. No broker is involved: measured once.',
      figures: [...latencyFigures('one event: append + flush', one), ...latencyFigures('1,000 runs, one event each: append + flush', many)],
    };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
