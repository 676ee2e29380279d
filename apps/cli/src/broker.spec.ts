// Which broker the labrun command talks to: --url, then MQTT_URL, then the npm start running in the repository.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerSettings, npmStartBroker } from './broker.js';

const noteOf = (pid: number) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'labrun-npm-start-')), 'npm-start.json');
  fs.writeFileSync(file, JSON.stringify({ pid, mqttUrl: 'mqtt://127.0.0.1:1884', at: new Date().toISOString() }));
  return file;
};

describe('the broker the labrun command picks', () => {
  it('is the running npm start’s when neither --url nor MQTT_URL says', () => {
    expect(brokerSettings(undefined, {}, () => 'mqtt://127.0.0.1:1884').url).toBe('mqtt://127.0.0.1:1884');
    expect(brokerSettings(undefined, { MQTT_URL: 'mqtt://lab:1883' }, () => 'mqtt://127.0.0.1:1884').url).toBe('mqtt://lab:1883');
    expect(brokerSettings('mqtt://cli:1883', { MQTT_URL: 'mqtt://lab:1883' }, () => 'mqtt://127.0.0.1:1884').url).toBe('mqtt://cli:1883');
    expect(brokerSettings(undefined, {}, () => undefined).url).toBe('mqtt://127.0.0.1:1883');
  });

  it('reads npm start’s note only while that npm start is alive', async () => {
    expect(npmStartBroker(noteOf(process.pid))).toBe('mqtt://127.0.0.1:1884');
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.once('exit', r));
    expect(npmStartBroker(noteOf(gone.pid!))).toBeUndefined();
    expect(npmStartBroker(path.join(os.tmpdir(), 'no-such-dir', 'npm-start.json'))).toBeUndefined();
  });
});
