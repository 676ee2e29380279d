// The labrun dashboard. It follows the gateway's server-sent events (GET /events for every run, the devices of the
// fleet and the hardware, GET /runs/:id/events for the selected run) and acts through the HTTP API (POST /runs,
// POST /runs/:id/actions).
// What to show comes only from the engine's documents: buttons are enabled exactly by the status's allowedActions,
// the pause banner by its `pause` (every reason in `pause.reasons`), the recovery panel by `error` and `recovery`.
// When the gateway wants a bearer token (it answers 401), the page asks for one, keeps it in localStorage, sends
// it with every request, and posts it to POST /session, whose cookie opens the event streams (an EventSource
// cannot send headers). Built with vite (dashboard/vite.config.ts) into the gateway's public/ folder.
import './no-eval.js';
import type { ActionType, HardwareState, ProtocolDocument, RunCommandsDocument, RunEvent, RunStatusDocument } from '@labrun/contracts';
import { ENDED, MAX_ACTIVITY, activityKey, describeEvent, historyOf, isTrouble, type ActivityEntry } from './activity.js';
import { RUN_STATUSES, STATUS_GROUPS, WAITING, deviceIds, deviceLine, runMatches, type FleetDevice, type RunFilter, type StatusFilter } from './fleet.js';
import { SOURCE_TEXT, attemptsText, clock, countdown, describe, otherReasons, reasonWho, recoveryView, seconds } from './run-text.js';

interface DeviceView {
  online: boolean;
  state: HardwareState | null;
}
interface Health {
  broker: boolean;
  engines: Record<string, boolean>;
  devices: Record<string, DeviceView>;
}
interface Example {
  id: string;
  name: string;
  description: string | null;
  protocol: ProtocolDocument;
}
type Session = { authentication: false } | { authentication: true; token: string; user: string; role: string };
/** Every answer of the gateway: `{ data }` on success, `{ error: { code, message } }` otherwise. */
interface Answer<T = unknown> {
  ok: boolean;
  status: number;
  data: T;
  error: { code: string; message: string };
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);

const state = {
  runs: new Map<string, RunStatusDocument>(),
  selected: null as string | null,
  /** A run the address names (#run=…) that the page does not know yet: selected as soon as its status arrives. */
  wanted: null as string | null,
  /** The commands document of the selected run. */
  commands: null as RunCommandsDocument | null,
  health: null as Health | null,
  /** Every device of the fleet, with the engine serving it and its current run (the gateway's `devices` event). */
  devices: [] as FleetDevice[],
  /** What the run list shows: one device's runs, runs of one status (or group), or all. */
  filter: { deviceId: '', status: '' } as RunFilter,
  examples: [] as Example[],
  live: false,
  /** The bearer token, if the gateway wants one. */
  token: localStorage.getItem('labrun.token'),
  /** What POST /session said: `{ authentication: false }`, or the token's name, user and role. */
  session: null as Session | null,
};

// ---------------------------------------------------------------- formatting

const timeOfDay = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }) : '');

/** Create an element with a class and text (never HTML: every string from the engine goes in as text). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function facts(pairs: [string, string | null | undefined][]): HTMLElement[] {
  const list = [];
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    const row = el('div');
    row.append(el('dt', '', term), el('dd', '', value));
    list.push(row);
  }
  return list;
}

/** The commands document of this run, when the page has it. */
const commandsOf = (run: RunStatusDocument) => (state.commands?.runId === run.runId ? state.commands.commands : null);

// ---------------------------------------------------------------- HTTP

async function request<T>(method: string, path: string, body: unknown, token: string | null): Promise<Answer<T>> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const answer = await response.json().catch(() => ({ error: { code: 'bad-answer', message: `the gateway answered ${response.status} without JSON` } }));
  return { ok: response.ok, status: response.status, ...answer };
}

async function api<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const answer = await request<T>(method, path, body, state.token);
  if (answer.status === 401) void askForToken(answer.error.message);
  return answer;
}

/** Who acts: the name typed in, else (with tokens) the gateway fills in the token's user, else "dashboard". */
const operator = () => input('operator').value.trim() || (state.session?.authentication ? undefined : 'dashboard');

const VERBS: Record<ActionType, string> = {
  play: 'Start',
  pause: 'Pause',
  resume: 'Resume',
  stop: 'Stop',
  'skip-delay': 'Skip delay',
  retry: 'Retry',
  skip: 'Skip',
  home: 'Home',
  unlock: 'Unlock',
};

async function act(type: ActionType) {
  const run = state.runs.get(state.selected ?? '');
  if (!run) return;
  if (type === 'stop' && !window.confirm(`Stop run ${run.runId}? The current command fails with "run stopped".`)) return;
  const by = operator();
  const answer = await api('POST', `/runs/${encodeURIComponent(run.runId)}/actions`, by === undefined ? { type } : { type, by });
  if (answer.ok) showFeedback(`${VERBS[type]} accepted.`, false, run);
  else showFeedback(`${VERBS[type]} refused: ${answer.error.message}`, true, state.runs.get(run.runId) ?? run);
}

/** How long "… accepted." stays: the run's own status shows the rest. */
const ACCEPTED_FEEDBACK_MS = 3000;

/** The feedback on screen: which run's action, its status then, and until when an acceptance shows. */
let feedback: { runId: string; status: RunStatusDocument['status']; isError: boolean; until: number } | null = null;
let feedbackTimer: ReturnType<typeof setTimeout> | undefined;

function showFeedback(text: string, isError: boolean, run: RunStatusDocument) {
  const box = $('action-feedback');
  box.textContent = text;
  box.classList.toggle('error', isError);
  box.hidden = false;
  clearTimeout(feedbackTimer);
  feedback = { runId: run.runId, status: run.status, isError, until: isError ? Infinity : Date.now() + ACCEPTED_FEEDBACK_MS };
  if (!isError) feedbackTimer = setTimeout(hideFeedback, ACCEPTED_FEEDBACK_MS);
  // The engine's answer can come after the statuses it caused: a skipped delay may have ended the run already.
  expireFeedback(state.runs.get(run.runId));
}

function hideFeedback() {
  clearTimeout(feedbackTimer);
  feedback = null;
  $('action-feedback').hidden = true;
}

/**
 * Feedback is about a moment, so it goes once the run moves on: always when the run ends, a refusal when the run's
 * status changes (its reason is stale then), an acceptance after a few seconds even if the timer was held back (a
 * background tab's timers can be delayed by minutes).
 */
function expireFeedback(run: RunStatusDocument | undefined) {
  if (!feedback) return;
  if (!run || feedback.runId !== run.runId || (ENDED.includes(run.status) && !ENDED.includes(feedback.status)) || Date.now() >= feedback.until) hideFeedback();
  else if (feedback.isError && run.status !== feedback.status) hideFeedback();
}

// ---------------------------------------------------------------- tokens and the session

const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POST /session with the token (if any): the gateway says whether it wants tokens and whose this one is, and sets
 * the cookie the event streams need. Asks for a token while the gateway refuses; retries while it is unreachable.
 */
async function startSession(): Promise<void> {
  for (;;) {
    let answer: Answer<Session>;
    try {
      answer = await request<Session>('POST', '/session', undefined, state.token);
    } catch {
      await sleep(2000);
      continue;
    }
    if (answer.ok) return applySession(answer.data);
    if (answer.status === 401) return askForToken(answer.error.message);
    await sleep(2000);
  }
}

function applySession(session: Session) {
  state.session = session;
  const signedIn = session.authentication === true;
  $('identity').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
  if (session.authentication) $('identity').textContent = `${session.user} · ${session.role}`;
  input('operator').placeholder = session.authentication ? session.user : 'your name';
}

let tokenPrompt: Promise<void> | null = null;
let tokenEntered: () => void = () => {};

/** Show the token dialog (once, however many requests were refused); resolves once a token the gateway takes is saved. */
function askForToken(reason: string): Promise<void> {
  tokenPrompt ??= new Promise((resolve) => {
    tokenEntered = resolve;
    $('token-reason').textContent = reason;
    $('token-error').hidden = true;
    input('token-input').value = '';
    $<HTMLDialogElement>('token-dialog').showModal();
  });
  return tokenPrompt;
}

async function saveToken() {
  const token = input('token-input').value.trim();
  const error = $('token-error');
  error.hidden = true;
  if (!TOKEN_SYNTAX.test(token)) {
    error.textContent = 'That is not a token: paste the whole line labrun token add printed (lrt_…).';
    error.hidden = false;
    return;
  }
  const answer = await request<Session>('POST', '/session', undefined, token).catch(() => ({ ok: false, error: { message: 'the gateway cannot be reached; try again' } }) as Answer<Session>);
  if (!answer.ok) {
    error.textContent = answer.error.message;
    error.hidden = false;
    return;
  }
  state.token = token;
  localStorage.setItem('labrun.token', token);
  applySession(answer.data);
  $<HTMLDialogElement>('token-dialog').close();
  tokenPrompt = null;
  tokenEntered();
  // Streams refused before the token was there start again with it.
  followSelectedRun();
}

async function signOut() {
  localStorage.removeItem('labrun.token');
  await request('DELETE', '/session', undefined, null).catch(() => {});
  location.reload();
}

// ---------------------------------------------------------------- live streams

const parse = <T>(e: Event) => JSON.parse((e as MessageEvent<string>).data) as T;

function followEverything() {
  const source = new EventSource('/events');
  source.addEventListener('open', () => setLive(true));
  source.addEventListener('error', () => {
    setLive(false);
    // EventSource retries by itself after a dropped connection, but not after an answer that is not a stream
    // (a 401 once the token is removed): then check the session (asking for a token if need be) and start again.
    if (source.readyState === EventSource.CLOSED) {
      setTimeout(async () => {
        await startSession();
        followEverything();
      }, 2000);
    }
  });
  source.addEventListener('runs', (e) => {
    state.runs = new Map(parse<RunStatusDocument[]>(e).map((s) => [s.runId, s]));
    if (state.wanted && state.runs.has(state.wanted)) select(state.wanted, false);
    else if (!state.selected || !state.runs.has(state.selected)) chooseDefaultRun();
    renderAll();
  });
  source.addEventListener('status', (e) => {
    const status = parse<RunStatusDocument>(e);
    const known = state.runs.get(status.runId);
    if (known && known.seq > status.seq) return; // an older document arriving late
    state.runs.set(status.runId, status);
    if (!known) renderFilters(); // a run may name a device the page has not heard of
    if (status.runId === state.wanted) {
      state.wanted = null;
      select(status.runId);
      return;
    }
    renderRunList();
    if (status.runId === state.selected) renderRun();
  });
  source.addEventListener('run-removed', (e) => {
    state.runs.delete(parse<{ runId: string }>(e).runId);
    if (!state.runs.has(state.selected ?? '')) select(null);
    renderAll();
  });
  source.addEventListener('health', (e) => {
    state.health = parse<Health>(e);
    renderSystem();
    renderDevices();
  });
  source.addEventListener('devices', (e) => {
    state.devices = parse<FleetDevice[]>(e);
    renderFleet();
    renderFilters();
  });
}

let runSource: EventSource | null = null;
function followSelectedRun() {
  runSource?.close();
  runSource = null;
  state.commands = null;
  activity = [];
  activityKeys = new Set();
  $('activity').replaceChildren(el('li', 'muted', 'Events of the selected run appear here.'));
  if (!state.selected) return;
  runSource = new EventSource(`/runs/${encodeURIComponent(state.selected)}/events`);
  runSource.addEventListener('status', (e) => {
    const status = parse<RunStatusDocument>(e);
    const known = state.runs.get(status.runId);
    if (!known || known.seq <= status.seq) state.runs.set(status.runId, status);
    renderRun();
    renderRunList();
  });
  runSource.addEventListener('commands', (e) => {
    const document = parse<RunCommandsDocument>(e);
    if (state.commands && state.commands.runId === document.runId && state.commands.seq > document.seq) return;
    state.commands = document;
    renderCommands();
    showHistory();
  });
  runSource.addEventListener('event', (e) => addActivity(parse<RunEvent>(e)));
  // EventSource retries by itself, except after an answer that is not a stream (a gateway that has just
  // restarted may not know the run yet): then try again a little later.
  const source = runSource;
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setTimeout(() => runSource === source && followSelectedRun(), 3000);
  });
}

function setLive(live: boolean) {
  state.live = live;
  renderSystem();
}

// ---------------------------------------------------------------- selection

function chooseDefaultRun() {
  const fromHash = runInAddress();
  if (fromHash && state.runs.has(fromHash)) return select(fromHash, false);
  // A link to a run the gateway has not told the page of yet: show the likeliest run meanwhile, then that one.
  if (fromHash) state.wanted = fromHash;
  // The run that most needs someone: awaiting recovery, paused or blocked first, then running, then the newest.
  const runs = sortedRuns();
  const pick = runs.find((r) => WAITING.includes(r.status)) ?? runs.find((r) => r.status === 'running' || r.status === 'pausing') ?? runs[0];
  select(pick ? pick.runId : null, false);
}

/** The run the address names (`#run=<id>`), or null. */
function runInAddress(): string | null {
  const match = /^#run=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]!) : null;
}

function select(runId: string | null, render = true) {
  if (runId !== null && runId === state.wanted) state.wanted = null;
  if (state.selected === runId) return;
  state.selected = runId;
  history.replaceState(null, '', runId ? `#run=${encodeURIComponent(runId)}` : location.pathname);
  hideFeedback();
  followSelectedRun();
  if (render) renderAll();
}

/** Newest first. */
const sortedRuns = () => [...state.runs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.runId.localeCompare(a.runId));

// ---------------------------------------------------------------- rendering

function renderAll() {
  renderFleet();
  renderFilters();
  renderRunList();
  renderRun();
  renderDevices();
  renderSystem();
}

function statusPill(status: string, small = false) {
  return el('span', `status-pill s-${status}${small ? ' small' : ''}`, status);
}

function progressBar(status: RunStatusDocument, big = false) {
  const bar = el('div', `bar s-${status.status}${big ? ' big' : ''}`);
  const fill = el('div', 'fill');
  fill.style.width = `${status.progress.total ? (100 * status.progress.completed) / status.progress.total : 0}%`;
  bar.append(fill);
  return bar;
}

function renderRunList() {
  const all = sortedRuns();
  const runs = all.filter((run) => runMatches(run, state.filter));
  $('run-count').textContent = all.length === 0 ? '' : runs.length === all.length ? String(all.length) : `${runs.length} of ${all.length}`;
  $('no-runs').hidden = all.length > 0;
  $('no-matching-runs').hidden = all.length === 0 || runs.length > 0;
  $('runs').replaceChildren(
    ...runs.map((run) => {
      const item = el('li');
      const button = el('button', 'run-item');
      button.type = 'button';
      button.dataset.runId = run.runId;
      button.setAttribute('aria-current', String(run.runId === state.selected));
      const top = el('div', 'line');
      top.append(el('span', 'name', run.name), statusPill(run.status, true));
      const bottom = el('div', 'line');
      bottom.append(el('span', 'id', run.runId), el('span', 'id', `${run.progress.completed}/${run.progress.total}`));
      button.append(top, bottom, progressBar(run));
      button.addEventListener('click', () => select(run.runId));
      item.append(button);
      return item;
    }),
  );
}

/** The devices panel: each device, online or not, the engine serving it, its machine state and its current run. */
function renderFleet() {
  const devices = state.devices;
  $('device-count').textContent = devices.length ? String(devices.length) : '';
  $('no-devices').hidden = devices.length > 0;
  $('fleet').replaceChildren(
    ...devices.map((device) => {
      const line = deviceLine(device);
      const item = el('li');
      const button = el('button', 'fleet-device');
      button.type = 'button';
      button.dataset.deviceId = device.deviceId;
      button.setAttribute('aria-current', String(line.run !== null && line.run.runId === state.selected));
      const top = el('div', 'line');
      top.append(el('b', 'name', device.deviceId), el('span', `online ${device.online ? 'on' : 'off'}`, device.online ? 'online' : 'offline'));
      const middle = el('div', 'line');
      middle.append(el('span', `engine${line.served ? '' : ' unserved'}`, line.engine), el('span', `machine ${line.machine}`, line.machine));
      button.append(top, middle);
      if (line.run) {
        const run = el('div', 'line current-run');
        run.append(statusPill(line.run.status, true), el('span', 'run-name', line.run.name));
        button.append(run);
        if (line.note) button.append(el('div', 'note', line.note));
        button.title = `Show run ${line.run.runId}`;
        const runId = line.run.runId;
        button.addEventListener('click', () => {
          const current = device.current!;
          const known = state.runs.get(runId);
          if (!known || known.seq < current.seq) state.runs.set(runId, current);
          select(runId);
        });
      } else {
        button.append(el('div', 'line muted current-run', 'No run yet'));
        button.disabled = true;
      }
      item.append(button);
      return item;
    }),
  );
}

const STATUS_LABELS: Record<StatusFilter, string> = {
  '': 'Any status',
  ...STATUS_GROUPS,
  ...(Object.fromEntries(RUN_STATUSES.map((status) => [status, status])) as Record<(typeof RUN_STATUSES)[number], string>),
};

/** The run filters: every device the page knows, and every status; a choice that is gone stays until changed. */
function renderFilters() {
  const device = $<HTMLSelectElement>('filter-device');
  const ids = deviceIds(state.devices, state.runs.values());
  if (state.filter.deviceId && !ids.includes(state.filter.deviceId)) ids.push(state.filter.deviceId);
  const wanted = ['', ...ids];
  if ([...device.options].map((o) => o.value).join('\n') !== wanted.join('\n')) {
    device.replaceChildren(...wanted.map((id) => Object.assign(el('option', '', id || 'All devices'), { value: id })));
  }
  device.value = state.filter.deviceId;
  const status = $<HTMLSelectElement>('filter-status');
  if (status.options.length === 0) status.replaceChildren(...Object.entries(STATUS_LABELS).map(([value, label]) => Object.assign(el('option', '', label), { value })));
  status.value = state.filter.status;
}

function setFilter(filter: Partial<RunFilter>) {
  state.filter = { ...state.filter, ...filter };
  renderFilters();
  renderRunList();
}

function renderRun() {
  const run = state.runs.get(state.selected ?? '');
  $('empty-state').hidden = Boolean(run);
  $('run').hidden = !run;
  if (!run) return;

  $('run-name').textContent = run.name;
  $('run-id').textContent = run.runId;
  $('run-device').textContent = run.deviceId;
  $('run-times').textContent = [`created ${timeOfDay(run.createdAt)}`, run.startedAt ? `started ${timeOfDay(run.startedAt)}` : '', run.completedAt ? `ended ${timeOfDay(run.completedAt)}` : '']
    .filter(Boolean)
    .join(' · ');
  const pill = $('run-status');
  pill.className = `status-pill s-${run.status}`;
  pill.textContent = run.status;

  expireFeedback(run);
  renderBanner(run);
  renderRecovery(run);
  renderControls(run);
  renderProgress(run);
  renderDelay(run);
  renderCommands();
  tick();
}

function renderBanner(run: RunStatusDocument) {
  const banner = $('banner');
  const { pause, error } = run;
  let kind: string | null = null;
  let icon = '';
  let title = '';
  let message = '';
  let details: [string, string | null | undefined][] = [];
  let reasons: string[] = [];
  let timerLabel: string | null = null;
  if ((run.status === 'paused' || run.status === 'pausing' || run.status === 'blocked') && pause) {
    kind = run.status;
    icon = run.status === 'blocked' ? '!' : '❚❚';
    const who = SOURCE_TEXT[pause.source] ?? pause.source;
    // Blocked while the protocol's own pause is current: both reasons show, the protocol's message first.
    const alsoInterlock = run.status === 'blocked' && run.interlock && pause.source !== 'interlock';
    title = alsoInterlock
      ? `Paused by ${who}, and blocked: ${run.interlock!.message}`
      : run.status === 'blocked'
        ? `Blocked by ${who}`
        : run.status === 'pausing'
          ? `Pausing: asked by ${pause.by ?? who}`
          : pause.source === 'external'
            ? 'Waiting for another instrument'
            : `Paused by ${reasonWho(pause)}`;
    message = pause.message ?? (run.status === 'pausing' ? 'Waiting for the machine to hold…' : 'No message');
    details = [
      ['Source', pause.source],
      ['By', pause.by],
      ['Since', pause.since ? timeOfDay(pause.since) : 'not yet stopped'],
      // A timed pause resumes by itself, a wait for another instrument gives up: when (or held, by a pause on top).
      [
        'Until',
        pause.resumesAt ? `${timeOfDay(pause.resumesAt)} (${pause.source === 'external' ? 'then it gives up' : 'then it resumes by itself'})` : pause.resumesAt === null ? 'held while paused' : null,
      ],
      ['Next', run.status === 'blocked' ? 'resume once the interlock clears' : run.allowedActions.includes('resume') ? 'press Resume to continue' : ''],
    ];
    // Every other reason the run waits for: a protocol's message is never lost behind the interlock or a user. The
    // interlock that blocks it is in the title already.
    reasons = otherReasons(alsoInterlock ? { ...pause, reasons: pause.reasons.filter((r) => r.source !== 'interlock') } : pause);
    timerLabel = run.status === 'blocked' ? 'blocked for' : 'paused for';
  } else if (run.status === 'failed') {
    kind = 'failed';
    icon = '✕';
    title = 'Run failed';
    message = error?.message ?? 'The run failed.';
    details = [
      ['Code', error?.code],
      ['Command', error?.commandIndex != null ? `#${error.commandIndex + 1}` : null],
    ];
  } else if (run.status === 'succeeded') {
    kind = 'succeeded';
    icon = '✓';
    title = 'Run succeeded';
    message = `All ${run.progress.total} commands completed.`;
    details = [['Took', run.startedAt && run.completedAt ? clock((Date.parse(run.completedAt) - Date.parse(run.startedAt)) / 1000) : null]];
  } else if (run.status === 'stopped' || run.status === 'stopping') {
    kind = 'stopped';
    icon = '■';
    title = run.status === 'stopping' ? 'Stopping' : 'Run stopped';
    message = `${run.progress.completed} of ${run.progress.total} commands completed.`;
  }
  // Awaiting recovery, the recovery panel says it all (renderRecovery).
  banner.hidden = kind === null;
  if (kind === null) return;
  banner.className = `banner ${kind}`;
  banner.dataset.status = run.status;
  $('banner-icon').textContent = icon;
  $('banner-title').textContent = title;
  $('banner-message').textContent = message;
  $('banner-facts').replaceChildren(...facts(details));
  $('banner-reasons').replaceChildren(...reasons.map((reason) => el('li', '', reason)));
  $('banner-reasons').hidden = reasons.length === 0;
  $('banner-timer-box').hidden = timerLabel === null;
  if (timerLabel) $('banner-timer-label').textContent = timerLabel;
}

/**
 * The recovery panel, while a failed command awaits the operator: what failed and the controller's words, the
 * attempt, whether the machine must be homed first, the fixit action (home, unlock) in progress or its outcome, every
 * other reason the run waits for, and the ways out — Retry, Skip, Home, Unlock, Stop — as allowedActions says.
 */
function renderRecovery(run: RunStatusDocument) {
  const view = recoveryView(run, commandsOf(run));
  $('recovery').hidden = view === null;
  // The run's usual buttons have nothing to offer while it awaits recovery: the panel has every way out.
  $('controls').hidden = view !== null;
  if (!view) return;
  $('recovery-title').textContent = view.title;
  $('recovery-command').textContent = view.command;
  $('recovery-message').textContent = view.message;
  $('recovery-facts').replaceChildren(...facts([...view.facts, ['Since', run.pause?.since ? timeOfDay(run.pause.since) : null]]));
  $('recovery-needs-home').hidden = !view.needsHome;
  const fixit = $('recovery-fixit');
  fixit.hidden = view.fixit === null;
  fixit.textContent = view.fixit?.text ?? '';
  fixit.dataset.state = view.fixit?.state ?? '';
  $('recovery-reasons').replaceChildren(...view.others.map((reason) => el('li', '', reason)));
  $('recovery-reasons').hidden = view.others.length === 0;
}

function renderControls(run: RunStatusDocument) {
  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-action], [data-recovery-action]')) {
    const action = (button.dataset.action ?? button.dataset.recoveryAction) as ActionType;
    button.disabled = !run.allowedActions.includes(action);
    button.setAttribute('aria-disabled', String(button.disabled));
    // Start is play on a run that has not started; on a paused run play is Resume's twin, so it is not shown.
    if (button.dataset.action === 'play') button.hidden = run.status !== 'idle';
    if (button.dataset.action === 'skip-delay') button.hidden = run.delay === null;
  }
  $('controls-hint').textContent = run.allowedActions.length === 0 ? 'This run is finished: nothing more can be done with it.' : '';
}

function renderProgress(run: RunStatusDocument) {
  const { completed, total } = run.progress;
  $('progress-text').textContent = `${completed} of ${total} commands · ${total ? Math.floor((100 * completed) / total) : 0}%`;
  const bar = $('progress-bar');
  bar.className = `bar big s-${run.status}`;
  bar.setAttribute('aria-valuemax', String(total));
  bar.setAttribute('aria-valuenow', String(completed));
  $('progress-fill').style.width = `${total ? (100 * completed) / total : 0}%`;
  const current = $('current-text');
  current.replaceChildren();
  if (run.current) {
    const command = commandsOf(run)?.[run.current.index]?.command;
    current.append('Now: ', el('b', '', `#${run.current.index + 1} ${command ? describe(command) : run.current.type}`), ` · since ${timeOfDay(run.current.startedAt)}`);
  } else {
    current.textContent = run.status === 'idle' ? 'Not started yet: press Start.' : '';
  }
}

function renderDelay(run: RunStatusDocument) {
  $('delay-card').hidden = run.delay === null;
  if (run.delay) $('delay-message').textContent = run.delay.message ?? '';
}

/** At most this many command rows are drawn, around the current command (a run may have a million). */
const MAX_ROWS = 400;
const ICONS: Record<string, string> = { succeeded: '✓', failed: '✕', running: '▶', queued: '○', skipped: '↷' };

function renderCommands() {
  const list = $('commands');
  const run = state.runs.get(state.selected ?? '');
  const commands = run && commandsOf(run);
  if (!run || !commands) {
    list.replaceChildren(el('li', 'more', 'Loading commands…'));
    $('commands-count').textContent = '';
    return;
  }
  $('commands-count').textContent = `${commands.length} commands`;
  const currentIndex = run.current?.index ?? null;
  const from = Math.max(0, Math.min((currentIndex ?? run.progress.completed) - 100, commands.length - MAX_ROWS));
  const rows = [];
  if (from > 0) rows.push(el('li', 'more', `… ${from} earlier commands`));
  for (const entry of commands.slice(from, from + MAX_ROWS)) {
    const isCurrent = entry.index === currentIndex && !ENDED.includes(run.status);
    // The current command is under way, unless it is the failed one awaiting recovery.
    const status = isCurrent && run.status !== 'awaiting-recovery' ? 'running' : entry.status;
    const held = isCurrent && (run.status === 'paused' || run.status === 'blocked');
    const row = el('li', `command ${status}${isCurrent ? ' current' : ''}${held ? ' paused' : ''}`);
    row.dataset.index = String(entry.index);
    if (isCurrent) row.setAttribute('aria-current', 'step');
    const what = el('span', 'what', describe(entry.command));
    if (isCurrent) what.append(el('span', 'tag', run.status === 'running' ? 'now' : run.status === 'awaiting-recovery' ? 'awaiting recovery' : run.status));
    let when = '';
    if (entry.completedAt && entry.startedAt) when = seconds(Math.round((Date.parse(entry.completedAt) - Date.parse(entry.startedAt)) / 100) / 10);
    else if (entry.startedAt) when = timeOfDay(entry.startedAt);
    row.append(el('span', 'index', String(entry.index + 1)), el('span', 'icon', ICONS[status] ?? ''), what, el('span', 'when', when));
    const attempts = attemptsText(entry);
    if (attempts) row.append(el('span', 'attempts', attempts));
    if (entry.error && entry.status !== 'succeeded') row.append(el('span', 'error', entry.error.message));
    rows.push(row);
  }
  if (from + MAX_ROWS < commands.length) rows.push(el('li', 'more', `… ${commands.length - from - MAX_ROWS} more commands`));
  list.replaceChildren(...rows);
  const current = list.querySelector<HTMLElement>('[aria-current="step"]');
  if (current) list.scrollTop = Math.max(0, current.offsetTop - list.offsetTop - list.clientHeight / 3);
  renderProgress(run);
  // The recovery panel describes the failed command from this document.
  renderRecovery(run);
}

function renderSystem() {
  const chips = [];
  const chip = (label: string, on: boolean | null, title?: string) => {
    const node = el('span', 'chip');
    node.dataset.state = on === null ? 'connecting' : on ? 'on' : 'off';
    node.title = title ?? '';
    node.append(el('i'), el('span', '', label));
    return node;
  };
  const live = chip(state.live ? 'Live' : 'Reconnecting…', state.live ? true : null, 'live updates from the gateway');
  live.id = 'live-chip';
  chips.push(live);
  const health = state.health;
  if (health) {
    chips.push(chip(health.broker ? 'Broker' : 'Broker offline', health.broker, 'the MQTT broker'));
    const engines = Object.entries(health.engines);
    if (engines.length === 0) chips.push(chip('No engine', false, 'no engine has announced itself'));
    for (const [id, online] of engines) chips.push(chip(`Engine ${id}`, online, online ? 'online' : 'offline'));
  }
  $('system').replaceChildren(...chips);
}

function renderDevices() {
  const devices = Object.entries(state.health?.devices ?? {});
  const box = $('devices');
  if (devices.length === 0) {
    box.replaceChildren(el('p', 'empty small', 'No device has reported yet.'));
    return;
  }
  const runDevice = state.runs.get(state.selected ?? '')?.deviceId;
  devices.sort(([a], [b]) => (a === runDevice ? -1 : b === runDevice ? 1 : a.localeCompare(b)));
  box.replaceChildren(
    ...devices.map(([id, device]) => {
      const card = el('section', `device${id === runDevice ? ' this-run' : ''}`);
      card.dataset.deviceId = id;
      const head = el('div', 'device-head');
      const name = el('div');
      name.append(el('b', '', id));
      if (id === runDevice) name.append(el('div', 'for-run', "this run's device"));
      head.append(name, el('span', `online ${device.online ? 'on' : 'off'}`, device.online ? 'online' : 'offline'));
      const list = el('dl', 'facts');
      const s = device.state;
      const add = (term: string, value: string | Node) => {
        list.append(el('dt', '', term));
        const dd = el('dd');
        dd.append(value);
        list.append(dd);
      };
      if (s) {
        add('Machine', el('span', `machine ${s.machine}`, s.machine));
        add('Position', el('span', 'position', `X ${s.position.x.toFixed(2)}  Y ${s.position.y.toFixed(2)}  Z ${s.position.z.toFixed(2)}`));
        add('Door', el('span', s.door === 'open' ? 'door-open' : '', s.door));
        add('Homed', s.homed ? 'yes' : 'no');
        add('Controller', s.connected ? 'connected' : 'disconnected');
        if (s.alarm) add('Alarm', el('span', 'door-open', `ALARM:${s.alarm.code} ${s.alarm.message}`));
      } else {
        add('State', 'not reported yet');
      }
      card.append(head, list);
      return card;
    }),
  );
}

/** The selected run's activity, newest first: live events, and its history from before the page followed it. */
let activity: (ActivityEntry & { order: number })[] = [];
/** The keys of every entry shown for the selected run, also those since dropped off the end of the panel. */
let activityKeys = new Set<string>();
/** Orders entries with the same time (a comment starts and ends in the same millisecond) as they happened. */
let activityOrder = 0;

function addActivity(event: RunEvent) {
  addEntries([{ at: event.at, key: activityKey(event), text: describeEvent(event), className: isTrouble(event) ? 'rejected' : '', fromHistory: false }]);
}

/** Add what is not shown yet (by key), keep the newest MAX_ACTIVITY, and draw the panel again. */
function addEntries(entries: ActivityEntry[]) {
  const fresh = entries.filter((entry) => !entry.key || !activityKeys.has(entry.key));
  if (fresh.length === 0) return;
  for (const entry of fresh) if (entry.key) activityKeys.add(entry.key);
  activity = [...activity, ...fresh.map((entry) => ({ ...entry, order: activityOrder++ }))].sort((a, b) => b.at.localeCompare(a.at) || b.order - a.order).slice(0, MAX_ACTIVITY);
  const items = activity.map((entry) => {
    const item = el('li', `${entry.className}${entry.fromHistory ? ' history' : ''}`.trim());
    item.append(el('time', '', timeOfDay(entry.at)), el('span', '', entry.text));
    return item;
  });
  if (activity.some((entry) => entry.fromHistory)) items.push(el('li', 'history-note', 'Before this page followed the run: from its status and commands record.'));
  $('activity').replaceChildren(...items);
}

/** Fill in, from each commands document, what the page saw no live event for (it may have happened before). */
function showHistory() {
  const run = state.runs.get(state.selected ?? '');
  const document = state.commands;
  if (!run || !document || document.runId !== run.runId) return;
  addEntries(historyOf(run, document));
}

/** What moves with the clock: the pause timer, the recovery panel's and the delay countdown. */
function tick() {
  const run = state.runs.get(state.selected ?? '');
  if (!run) return;
  expireFeedback(run);
  const since = run.pause?.since;
  if (since && !$('banner').hidden) $('pause-timer').textContent = clock((Date.now() - Date.parse(since)) / 1000);
  else if (run.status === 'pausing') $('pause-timer').textContent = '--:--';
  if (since && !$('recovery').hidden) $('recovery-timer').textContent = clock((Date.now() - Date.parse(since)) / 1000);
  const delay = run.delay;
  if (delay) {
    // remainingSeconds is as of updatedAt; endsAt is null while the countdown is frozen.
    const left = delay.endsAt ? (Date.parse(delay.endsAt) - Date.now()) / 1000 : delay.remainingSeconds;
    $('delay-remaining').textContent = countdown(left);
    $('delay-note').textContent = delay.endsAt ? `of ${clock(delay.seconds)} left` : 'frozen while the run is paused';
    $('delay-fill').style.width = `${Math.min(100, Math.max(0, (100 * (delay.seconds - left)) / delay.seconds))}%`;
  }
}

// ---------------------------------------------------------------- new run

async function loadExamples() {
  if (state.examples.length > 0) return;
  const answer = await api<Example[]>('GET', '/examples');
  state.examples = answer.ok ? answer.data : [];
  const select = $<HTMLSelectElement>('example');
  select.replaceChildren(
    ...state.examples.map((example) => {
      const option = el('option', '', `Example: ${example.name}${example.description ? ` — ${example.description}` : ''}`);
      option.value = example.id;
      return option;
    }),
    Object.assign(el('option', '', 'My own protocol (paste or load a file below)'), { value: '' }),
  );
  select.value = state.examples[0]?.id ?? '';
  fillExample();
}

async function openNewRun() {
  $('new-run-error').hidden = true;
  await loadExamples();
  $<HTMLDialogElement>('new-run-dialog').showModal();
}

function fillExample() {
  const example = state.examples.find((e) => e.id === $<HTMLSelectElement>('example').value);
  $<HTMLTextAreaElement>('protocol-text').value = example ? JSON.stringify(example.protocol, null, 2) : '';
}

async function createRun(start: boolean) {
  const error = $('new-run-error');
  error.hidden = true;
  let protocol: unknown;
  try {
    protocol = JSON.parse($<HTMLTextAreaElement>('protocol-text').value);
  } catch (e) {
    error.textContent = `The protocol is not valid JSON: ${(e as Error).message}`;
    error.hidden = false;
    return;
  }
  const body: { protocol: unknown; runId?: string; deviceId?: string } = { protocol };
  const runId = input('new-run-id').value.trim();
  const deviceId = input('new-run-device').value.trim();
  if (runId) body.runId = runId;
  if (deviceId) body.deviceId = deviceId;
  const created = await create(body, start);
  if (!created.ok) {
    error.textContent = created.error.message;
    error.hidden = false;
    return;
  }
  $<HTMLDialogElement>('new-run-dialog').close();
  input('new-run-id').value = '';
}

/** POST /runs, select the new run, and play it when asked to. */
async function create(body: object, start: boolean) {
  const created = await api<RunStatusDocument>('POST', '/runs', body);
  if (!created.ok) return created;
  state.runs.set(created.data.runId, created.data);
  select(created.data.runId);
  if (start) await act('play');
  return created;
}

/** The one-click way in: the first example protocol (examples/serial-dilution.json), created and started. */
async function startExample() {
  await loadExamples();
  const [example] = state.examples;
  if (!example) return openNewRun();
  const created = await create({ protocol: example.protocol }, true);
  if (!created.ok) window.alert(`Could not start the example: ${created.error.message}`);
}

// ---------------------------------------------------------------- wiring

input('operator').value = localStorage.getItem('labrun.operator') ?? '';
input('operator').addEventListener('change', () => localStorage.setItem('labrun.operator', input('operator').value.trim()));
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-action], [data-recovery-action]')) {
  button.addEventListener('click', () => act((button.dataset.action ?? button.dataset.recoveryAction) as ActionType));
}
$('new-run').addEventListener('click', openNewRun);
$('filter-device').addEventListener('change', () => setFilter({ deviceId: $<HTMLSelectElement>('filter-device').value }));
$('filter-status').addEventListener('change', () => setFilter({ status: $<HTMLSelectElement>('filter-status').value as StatusFilter }));
$('clear-filters').addEventListener('click', () => setFilter({ deviceId: '', status: '' }));
for (const button of document.querySelectorAll('[data-start-example]')) button.addEventListener('click', startExample);
$('example').addEventListener('change', fillExample);
$('protocol-file').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  $<HTMLTextAreaElement>('protocol-text').value = await file.text();
  $<HTMLSelectElement>('example').value = '';
});
$('cancel-new-run').addEventListener('click', () => $<HTMLDialogElement>('new-run-dialog').close());
$('token-save').addEventListener('click', saveToken);
$('token-input').addEventListener('keydown', (e) => e.key === 'Enter' && saveToken());
// The page can do nothing without a token: Escape does not close the dialog.
$('token-dialog').addEventListener('cancel', (e) => e.preventDefault());
$('sign-out').addEventListener('click', signOut);
$('create-only').addEventListener('click', () => createRun(false));
$('create-start').addEventListener('click', () => createRun(true));
window.addEventListener('hashchange', () => {
  const runId = runInAddress();
  if (runId === null) return;
  // A run the page does not know yet (a link to a run created a moment ago) is selected once its status arrives.
  if (state.runs.has(runId)) select(runId);
  else state.wanted = runId;
});

setInterval(tick, 250);
renderAll();
startSession().then(followEverything);
