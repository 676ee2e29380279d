// What durability costs on this disk: appending one event (~300 bytes) to a run's journal file and syncing it
// (fdatasync), as the engine does before it publishes anything. It is most of the gap between resume latency and
// the raw MQTT floor.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { latencyFigures, now } from './stats.mjs';

export async function run() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labrun-bench-journal-'));
  const file = await fs.open(path.join(dir, 'run.jsonl'), 'a');
  const line = JSON.stringify({ runId: 'bench', seq: 1, at: new Date().toISOString(), type: 'action.accepted', actionId: 'a'.repeat(36), action: 'resume', by: null, message: null, mode: null, pad: 'x'.repeat(120) }) + '\n';
  const samples = [];
  for (let i = 0; i < 2000; i++) {
    const start = now();
    await file.write(line);
    await file.datasync();
    samples.push(now() - start);
  }
  await file.close();
  await fs.rm(dir, { recursive: true, force: true });
  return { name: 'Journal: append one event and fdatasync', description: `On ${os.tmpdir()}, 2,000 times.`, figures: latencyFigures('append + fdatasync', samples) };
}
