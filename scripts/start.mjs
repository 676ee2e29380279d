#!/usr/bin/env node
// `npm start`: run the whole labrun system on this machine. Installs dependencies when they are missing or
// stale, builds, then starts the broker (unless MQTT_URL names one), engine, hardware simulator and gateway (and the
// Home Assistant bridge when LABRUN_HA_DISCOVERY is set) as separate processes with prefixed logs, and stops them all on Ctrl-C. A service that crashes is started
// again (after 1 s, doubling to 30 s; after 5 crashes within a minute it is left stopped, and a broker that keeps
// crashing stops everything). Plain Node only: it must run before anything is installed.
// `--no-build` skips the install and the build (tests that start the system right after building it).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nxBin } from './nx-bin.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code, text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const say = (text) => process.stdout.write(`${paint('1', '[labrun]')} ${text}\n`);
const die = (text, code = 1) => {
  process.stderr.write(`${paint('31;1', '[labrun]')} ${text}\n`);
  process.exit(code);
};

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) die(`labrun needs Node.js 20.19 or newer; this is ${process.version}.`);

// 1. The broker: labrun's own, unless MQTT_URL names another one. Checked first: a busy port needs no build.
const env = { ...process.env };
const services = [];
if (env.MQTT_URL) {
  say(`using the MQTT broker at ${env.MQTT_URL} (MQTT_URL is set, so labrun starts no broker of its own)`);
} else {
  const host = env.BROKER_HOST || '127.0.0.1';
  const port = Number(env.BROKER_PORT || 1883);
  const wsPort = Number(env.BROKER_WS_PORT || 9001);
  for (const [name, p, variable] of [
    ['MQTT', port, 'BROKER_PORT'],
    ['MQTT-over-WebSocket', wsPort, 'BROKER_WS_PORT'],
  ]) {
    if (Number.isInteger(p) && p > 0 && !(await portFree(host, p))) {
      die(
        [
          `port ${p} on ${host} (for ${name}) is already in use — probably by another MQTT broker, such as Mosquitto.`,
          `  To use that broker:          MQTT_URL=mqtt://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port} npm start`,
          `  To run labrun's own broker on another port:  ${variable}=${p + 1} npm start`,
        ].join('\n'),
      );
    }
  }
  env.MQTT_URL = `mqtt://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  services.push({ name: 'broker', app: 'broker' });
}
// 2. Dependencies: install when node_modules is missing or older than the lockfile.
const noBuild = process.argv.includes('--no-build');
const lock = path.join(root, 'package-lock.json');
const stamp = path.join(root, 'node_modules', '.labrun-installed');
const lockHash = createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
const installed = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : '';
if (!noBuild && installed !== lockHash) {
  say(fs.existsSync(path.join(root, 'node_modules')) ? 'dependencies changed: running npm ci …' : 'installing dependencies (npm ci) …');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) die('npm ci failed (see above).');
  fs.writeFileSync(stamp, lockHash + '\n');
}

// 3. Build (nx only rebuilds what changed).
if (!noBuild) {
  say('building …');
  const build = spawnSync(process.execPath, [nxBin(root), 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NX_TUI: 'false' },
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    process.stderr.write(build.stdout + build.stderr);
    die('the build failed (see above).');
  }
}

services.push({ name: 'engine', app: 'engine' }, { name: 'hardware', app: 'hardware' });
if (fs.existsSync(path.join(root, 'apps', 'gateway', 'dist', 'main.js'))) services.push({ name: 'gateway', app: 'gateway' });
// Notifications (webhooks, e-mail) only for those who asked for them: the notify file says whom to tell.
if (env.LABRUN_NOTIFY_FILE) services.push({ name: 'notify', app: 'notify' });
// The Home Assistant bridge only for those who ask for it: LABRUN_HA_DISCOVERY names Home Assistant's discovery prefix.
if (env.LABRUN_HA_DISCOVERY) services.push({ name: 'homeassistant', app: 'homeassistant' });

// 4. Start each service and wait for it to say it is ready before the next. A service that stops by itself later
// is started again: a hardware service that crashed on a USB hiccup must not take the engine and broker with it.
const colors = { broker: '35', engine: '36', hardware: '33', gateway: '32', notify: '34', homeassistant: '94' };
const children = [];
let stopping = false;
const RESTART_LIMIT = 5;
const RESTART_WINDOW_MS = 60_000;
const crashes = new Map();

function start(service) {
  const { name, app } = service;
  const child = spawn(process.execPath, [path.join(root, 'apps', app, 'dist', 'main.js')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = paint(colors[name] ?? '0', `[${name}]`.padEnd(15));
  let ready = false;
  const waiting = new Promise((resolve, reject) => {
    const onLine = (line) => {
      process.stdout.write(`${prefix} ${line}\n`);
      if (!ready && / ready( |$)/.test(line)) {
        ready = true;
        resolve();
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = '';
      stream.on('data', (chunk) => {
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          onLine(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
        }
      });
    }
    child.on('exit', (code, signal) => {
      const index = children.indexOf(child);
      if (index >= 0) children.splice(index, 1);
      if (!ready && !service.restarted) return reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`})`));
      if (!stopping) restartLater(service, signal ?? `code ${code}`);
    });
  });
  children.push(child);
  say(`${name} started (pid ${child.pid})`);
  return waiting;
}

function restartLater(service, how) {
  const now = Date.now();
  const recent = (crashes.get(service.name) ?? []).filter((at) => now - at < RESTART_WINDOW_MS);
  recent.push(now);
  crashes.set(service.name, recent);
  const warn = (text) => process.stderr.write(`${paint('31;1', '[labrun]')} ${text}\n`);
  if (recent.length > RESTART_LIMIT) {
    if (service.name === 'broker') {
      warn(`broker stopped unexpectedly (${how}) ${recent.length} times within a minute; nothing works without it: stopping everything.`);
      return shutdown(1);
    }
    warn(`${service.name} stopped unexpectedly (${how}) ${recent.length} times within a minute; not starting it again. Fix the cause (see its log above), then restart npm start.`);
    return;
  }
  const delay = Math.min(30_000, 1000 * 2 ** (recent.length - 1));
  warn(`${service.name} stopped unexpectedly (${how}); starting it again in ${delay / 1000} s (restart ${recent.length} of at most ${RESTART_LIMIT} a minute).`);
  setTimeout(() => {
    if (stopping) return;
    service.restarted = true;
    start(service).catch(() => undefined);
  }, delay);
}

// Where the labrun command finds the broker this npm start runs, when MQTT_URL does not say (apps/cli/src/broker.ts).
const runningFile = path.join(root, '.labrun', 'npm-start.json');

function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping …');
  fs.rmSync(runningFile, { force: true });
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of alive.reverse()) child.kill('SIGTERM');
  const force = setTimeout(() => alive.forEach((c) => c.kill('SIGKILL')), 5000);
  Promise.all(alive.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.on('exit', r))))).then(() => {
    clearTimeout(force);
    process.exit(code);
  });
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

try {
  for (const service of services) await start(service);
} catch (error) {
  process.stderr.write(`${paint('31;1', '[labrun]')} ${error.message}\n`);
  shutdown(1);
}

if (!stopping) {
  fs.mkdirSync(path.dirname(runningFile), { recursive: true });
  fs.writeFileSync(runningFile, JSON.stringify({ pid: process.pid, mqttUrl: env.MQTT_URL, at: new Date().toISOString() }) + '\n');
  const { hostname, port } = new URL(env.MQTT_URL);
  const h = hostname === '127.0.0.1' || hostname === 'localhost' ? '' : ` -h ${hostname}`;
  const p = port && port !== '1883' ? ` -p ${port}` : '';
  say(paint('32;1', `labrun is running (MQTT ${env.MQTT_URL}). Try the example in another terminal:`));
  process.stdout.write(
    [
      `    npx labrun run examples/serial-dilution.json   # the labrun command finds this broker (elsewhere: MQTT_URL=${env.MQTT_URL})`,
      `    mosquitto_sub${h}${p} -v -t 'run/demo/status' -t 'run/demo/events' &`,
      `    mosquitto_pub${h}${p} -t run/demo/create -f examples/serial-dilution.create.json`,
      `    mosquitto_pub${h}${p} -t run/demo/actions -m play`,
      `    mosquitto_pub${h}${p} -t run/demo/actions -m resume     # once it says "Check the samples"`,
      services.some((s) => s.name === 'gateway') ? `  Dashboard: http://${env.HTTP_HOST || '127.0.0.1'}:${env.HTTP_PORT || 8080}/` : '',
      services.some((s) => s.name === 'homeassistant') ? `  Home Assistant: every device is announced under ${env.LABRUN_HA_DISCOVERY}/ (MQTT discovery)` : '',
      '  Ctrl-C stops everything.',
      '',
    ]
      .filter((line) => line !== '')
      .join('\n') + '\n',
  );
}

function portFree(host, port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
