// The labrun dashboard. Plain JavaScript, no build step: it follows the gateway's server-sent events
// (GET /events for every run and the hardware, GET /runs/:id/events for the selected run) and acts through
// the HTTP API (POST /runs, POST /runs/:id/actions). What to show comes only from the engine's documents:
// buttons are enabled exactly by the status's allowedActions, the pause banner by its `pause`.
// When the gateway wants a bearer token (it answers 401), the page asks for one, keeps it in localStorage, sends
// it with every request, and posts it to POST /session, whose cookie opens the event streams (an EventSource
// cannot send headers).

const $ = (id) => document.getElementById(id);

const state = {
  runs: new Map(),
  selected: null,
  /** The commands document of the selected run. */
  commands: null,
  health: null,
  examples: [],
  live: false,
  /** The bearer token, if the gateway wants one. */
  token: localStorage.getItem('labrun.token'),
  /** What POST /session said: `{ authentication: false }`, or the token's name, user and role. */
  session: null,
};

// ---------------------------------------------------------------- formatting

const pad = (n) => String(n).padStart(2, '0');

/** 83 → "01:23"; an hour or more → "1:02:03". */
function clock(totalSeconds) {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** A countdown rounds up: 0.2 s left still reads 00:01. */
const countdown = (seconds) => clock(Math.ceil(Math.max(0, seconds)));

const timeOfDay = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }) : '');

const seconds = (s) => `${Number.isInteger(s) ? s : s.toFixed(1)} s`;

function describeCommand(command) {
  const p = command.params ?? {};
  switch (command.type) {
    case 'home':
      return 'Home';
    case 'move': {
      const axes = ['x', 'y', 'z'].filter((a) => p[a] !== undefined).map((a) => `${a.toUpperCase()} ${p[a]}`);
      return `Move to ${axes.join(', ')}${p.feed !== undefined ? ` at ${p.feed} mm/min` : ''}`;
    }
    case 'pause':
      return p.message ? `Pause: “${p.message}”` : 'Pause';
    case 'delay':
      return `Delay ${seconds(p.seconds)}${p.message ? `: “${p.message}”` : ''}`;
    case 'comment':
      return `Comment: “${p.message}”`;
    default:
      return command.type;
  }
}

const SOURCE_TEXT = {
  protocol: 'the protocol',
  user: 'a user',
  interlock: 'the safety interlock',
  recovery: 'recovery after an engine restart',
};

/** Create an element with a class and text (never HTML: every string from the engine goes in as text). */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function facts(pairs) {
  const list = [];
  for (const [term, value] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    const row = el('div');
    row.append(el('dt', '', term), el('dd', '', value));
    list.push(row);
  }
  return list;
}

// ---------------------------------------------------------------- HTTP

async function request(method, path, body, token) {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json().catch(() => ({ error: { code: 'bad-answer', message: `the gateway answered ${response.status} without JSON` } }));
  return { ok: response.ok, status: response.status, ...answer };
}

async function api(method, path, body) {
  const answer = await request(method, path, body, state.token);
  if (answer.status === 401) void askForToken(answer.error.message);
  return answer;
}

/** Who acts: the name typed in, else (with tokens) the gateway fills in the token's user, else "dashboard". */
const operator = () => $('operator').value.trim() || (state.session?.authentication ? undefined : 'dashboard');

async function act(type) {
  const run = state.runs.get(state.selected);
  if (!run) return;
  if (type === 'stop' && !window.confirm(`Stop run ${run.runId}? The current command fails with "run stopped".`)) return;
  const by = operator();
  const answer = await api('POST', `/runs/${encodeURIComponent(run.runId)}/actions`, by === undefined ? { type } : { type, by });
  const verb = { play: 'Start', pause: 'Pause', resume: 'Resume', stop: 'Stop', 'skip-delay': 'Skip delay' }[type];
  if (answer.ok) showFeedback(`${verb} accepted.`, false, run);
  else showFeedback(`${verb} refused: ${answer.error.message}`, true, state.runs.get(run.runId) ?? run);
}

/** How long "… accepted." stays: the run's own status shows the rest. */
const ACCEPTED_FEEDBACK_MS = 3000;
const ENDED = ['succeeded', 'failed', 'stopped'];

/** The feedback on screen: which run's action, its status then, and until when an acceptance shows. */
let feedback = null;
let feedbackTimer = null;

function showFeedback(text, isError, run) {
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
function expireFeedback(run) {
  if (!feedback) return;
  if (feedback.runId !== run?.runId || (ENDED.includes(run.status) && !ENDED.includes(feedback.status)) || Date.now() >= feedback.until) hideFeedback();
  else if (feedback.isError && run.status !== feedback.status) hideFeedback();
}

// ---------------------------------------------------------------- tokens and the session

const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POST /session with the token (if any): the gateway says whether it wants tokens and whose this one is, and sets
 * the cookie the event streams need. Asks for a token while the gateway refuses; retries while it is unreachable.
 */
async function startSession() {
  for (;;) {
    let answer;
    try {
      answer = await request('POST', '/session', undefined, state.token);
    } catch {
      await sleep(2000);
      continue;
    }
    if (answer.ok) return applySession(answer.data);
    if (answer.status === 401) return askForToken(answer.error.message);
    await sleep(2000);
  }
}

function applySession(session) {
  state.session = session;
  const signedIn = session.authentication === true;
  $('identity').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
  if (signedIn) $('identity').textContent = `${session.user} · ${session.role}`;
  $('operator').placeholder = signedIn ? session.user : 'your name';
}

let tokenPrompt = null;
let tokenEntered = null;

/** Show the token dialog (once, however many requests were refused); resolves once a token the gateway takes is saved. */
function askForToken(reason) {
  tokenPrompt ??= new Promise((resolve) => {
    tokenEntered = resolve;
    $('token-reason').textContent = reason;
    $('token-error').hidden = true;
    $('token-input').value = '';
    $('token-dialog').showModal();
  });
  return tokenPrompt;
}

async function saveToken() {
  const token = $('token-input').value.trim();
  const error = $('token-error');
  error.hidden = true;
  if (!TOKEN_SYNTAX.test(token)) {
    error.textContent = 'That is not a token: paste the whole line labrun token add printed (lrt_…).';
    error.hidden = false;
    return;
  }
  const answer = await request('POST', '/session', undefined, token).catch(() => ({ ok: false, error: { message: 'the gateway cannot be reached; try again' } }));
  if (!answer.ok) {
    error.textContent = answer.error.message;
    error.hidden = false;
    return;
  }
  state.token = token;
  localStorage.setItem('labrun.token', token);
  applySession(answer.data);
  $('token-dialog').close();
  tokenPrompt = null;
  tokenEntered();
  // Streams refused before the token was there start again with it.
  followSelectedRun();
}

async function signOut() {
  localStorage.removeItem('labrun.token');
  await request('DELETE', '/session').catch(() => {});
  location.reload();
}

// ---------------------------------------------------------------- live streams

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
    state.runs = new Map(JSON.parse(e.data).map((s) => [s.runId, s]));
    if (!state.selected || !state.runs.has(state.selected)) chooseDefaultRun();
    renderAll();
  });
  source.addEventListener('status', (e) => {
    const status = JSON.parse(e.data);
    const known = state.runs.get(status.runId);
    if (known && known.seq > status.seq) return; // an older document arriving late
    state.runs.set(status.runId, status);
    renderRunList();
    if (status.runId === state.selected) renderRun();
  });
  source.addEventListener('run-removed', (e) => {
    state.runs.delete(JSON.parse(e.data).runId);
    if (!state.runs.has(state.selected)) select(null);
    renderAll();
  });
  source.addEventListener('health', (e) => {
    state.health = JSON.parse(e.data);
    renderSystem();
    renderDevices();
  });
}

let runSource = null;
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
    const status = JSON.parse(e.data);
    const known = state.runs.get(status.runId);
    if (!known || known.seq <= status.seq) state.runs.set(status.runId, status);
    renderRun();
    renderRunList();
  });
  runSource.addEventListener('commands', (e) => {
    const document = JSON.parse(e.data);
    if (state.commands && state.commands.runId === document.runId && state.commands.seq > document.seq) return;
    state.commands = document;
    renderCommands();
    showHistory();
  });
  runSource.addEventListener('event', (e) => addActivity(JSON.parse(e.data)));
  // EventSource retries by itself, except after an answer that is not a stream (a gateway that has just
  // restarted may not know the run yet): then try again a little later.
  const source = runSource;
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setTimeout(() => runSource === source && followSelectedRun(), 3000);
  });
}

function setLive(live) {
  state.live = live;
  renderSystem();
}

// ---------------------------------------------------------------- selection

function chooseDefaultRun() {
  const fromHash = decodeURIComponent(location.hash.replace(/^#run=/, ''));
  if (fromHash && state.runs.has(fromHash)) return select(fromHash, false);
  // The run that most needs someone: paused or blocked first, then running, then the newest.
  const runs = sortedRuns();
  const pick =
    runs.find((r) => r.status === 'paused' || r.status === 'blocked') ??
    runs.find((r) => r.status === 'running' || r.status === 'pausing') ??
    runs[0];
  select(pick ? pick.runId : null, false);
}

function select(runId, render = true) {
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
  renderRunList();
  renderRun();
  renderDevices();
  renderSystem();
}

function statusPill(status, small = false) {
  return el('span', `status-pill s-${status}${small ? ' small' : ''}`, status);
}

function progressBar(status, big = false) {
  const bar = el('div', `bar s-${status.status}${big ? ' big' : ''}`);
  const fill = el('div', 'fill');
  fill.style.width = `${status.progress.total ? (100 * status.progress.completed) / status.progress.total : 0}%`;
  bar.append(fill);
  return bar;
}

function renderRunList() {
  const runs = sortedRuns();
  $('run-count').textContent = runs.length ? String(runs.length) : '';
  $('no-runs').hidden = runs.length > 0;
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

function renderRun() {
  const run = state.runs.get(state.selected);
  $('empty-state').hidden = Boolean(run);
  $('run').hidden = !run;
  if (!run) return;

  $('run-name').textContent = run.name;
  $('run-id').textContent = run.runId;
  $('run-device').textContent = run.deviceId;
  $('run-times').textContent = [
    `created ${timeOfDay(run.createdAt)}`,
    run.startedAt ? `started ${timeOfDay(run.startedAt)}` : '',
    run.completedAt ? `ended ${timeOfDay(run.completedAt)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const pill = $('run-status');
  pill.className = `status-pill s-${run.status}`;
  pill.textContent = run.status;

  expireFeedback(run);
  renderBanner(run);
  renderControls(run);
  renderProgress(run);
  renderDelay(run);
  renderCommands();
  tick();
}

function renderBanner(run) {
  const banner = $('banner');
  const { pause, error } = run;
  let kind = null;
  let icon = '';
  let title = '';
  let message = '';
  let details = [];
  let timerLabel = null;
  if ((run.status === 'paused' || run.status === 'pausing' || run.status === 'blocked') && pause) {
    kind = run.status;
    icon = run.status === 'blocked' ? '!' : '❚❚';
    // Blocked while the protocol's own pause is current: both reasons show, the protocol's message first.
    const alsoInterlock = run.status === 'blocked' && run.interlock && pause.source !== 'interlock';
    title =
      alsoInterlock ? `Paused by ${SOURCE_TEXT[pause.source] ?? pause.source}, and blocked: ${run.interlock.message}` :
      run.status === 'blocked' ? `Blocked by ${SOURCE_TEXT[pause.source] ?? pause.source}` :
      run.status === 'pausing' ? `Pausing: asked by ${pause.by ?? SOURCE_TEXT[pause.source] ?? pause.source}` :
      `Paused by ${pause.source === 'user' && pause.by ? pause.by : SOURCE_TEXT[pause.source] ?? pause.source}`;
    message = pause.message ?? (run.status === 'pausing' ? 'Waiting for the machine to hold…' : 'No message');
    details = [
      ['Source', pause.source],
      ['By', pause.by],
      ['Since', pause.since ? timeOfDay(pause.since) : 'not yet stopped'],
      ['Next', run.status === 'blocked' ? 'resume once the interlock clears' : run.allowedActions.includes('resume') ? 'press Resume to continue' : ''],
    ];
    timerLabel = run.status === 'blocked' ? 'blocked for' : 'paused for';
  } else if (run.status === 'failed') {
    kind = 'failed';
    icon = '✕';
    title = 'Run failed';
    message = error?.message ?? 'The run failed.';
    details = [['Code', error?.code], ['Command', error?.commandIndex != null ? `#${error.commandIndex + 1}` : null]];
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
  banner.hidden = kind === null;
  if (kind === null) return;
  banner.className = `banner ${kind}`;
  banner.dataset.status = run.status;
  $('banner-icon').textContent = icon;
  $('banner-title').textContent = title;
  $('banner-message').textContent = message;
  $('banner-facts').replaceChildren(...facts(details));
  $('banner-timer-box').hidden = timerLabel === null;
  if (timerLabel) $('banner-timer-label').textContent = timerLabel;
}

function renderControls(run) {
  for (const button of document.querySelectorAll('[data-action]')) {
    const action = button.dataset.action;
    button.disabled = !run.allowedActions.includes(action);
    button.setAttribute('aria-disabled', String(button.disabled));
    // Start is play on a run that has not started; on a paused run play is Resume's twin, so it is not shown.
    if (action === 'play') button.hidden = run.status !== 'idle';
    if (action === 'skip-delay') button.hidden = run.delay === null;
  }
  $('controls-hint').textContent = run.allowedActions.length === 0 ? 'This run is finished: nothing more can be done with it.' : '';
}

function renderProgress(run) {
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
    const command = state.commands?.runId === run.runId ? state.commands.commands[run.current.index]?.command : null;
    current.append('Now: ', el('b', '', `#${run.current.index + 1} ${command ? describeCommand(command) : run.current.type}`), ` · since ${timeOfDay(run.current.startedAt)}`);
  } else {
    current.textContent = run.status === 'idle' ? 'Not started yet: press Start.' : '';
  }
}

function renderDelay(run) {
  $('delay-card').hidden = run.delay === null;
  if (run.delay) $('delay-message').textContent = run.delay.message ?? '';
}

/** At most this many command rows are drawn, around the current command (a run may have a million). */
const MAX_ROWS = 400;

function renderCommands() {
  const list = $('commands');
  const run = state.runs.get(state.selected);
  const document = state.commands;
  if (!run || !document || document.runId !== run.runId) {
    list.replaceChildren(el('li', 'more', 'Loading commands…'));
    $('commands-count').textContent = '';
    return;
  }
  const commands = document.commands;
  $('commands-count').textContent = `${commands.length} commands`;
  const currentIndex = run.current?.index ?? null;
  const from = Math.max(0, Math.min((currentIndex ?? run.progress.completed) - 100, commands.length - MAX_ROWS));
  const rows = [];
  if (from > 0) rows.push(el('li', 'more', `… ${from} earlier commands`));
  for (const entry of commands.slice(from, from + MAX_ROWS)) {
    const isCurrent = entry.index === currentIndex && !['stopped', 'succeeded', 'failed'].includes(run.status);
    const status = isCurrent ? 'running' : entry.status;
    const row = el('li', `command ${status}${isCurrent ? ' current' : ''}${isCurrent && (run.status === 'paused' || run.status === 'blocked') ? ' paused' : ''}`);
    row.dataset.index = String(entry.index);
    if (isCurrent) row.setAttribute('aria-current', 'step');
    const icon = { succeeded: '✓', failed: '✕', running: '▶', queued: '○' }[status];
    const what = el('span', 'what', describeCommand(entry.command));
    if (isCurrent) what.append(el('span', 'tag', run.status === 'running' ? 'now' : run.status));
    let when = '';
    if (entry.completedAt && entry.startedAt) when = seconds(Math.round((Date.parse(entry.completedAt) - Date.parse(entry.startedAt)) / 100) / 10);
    else if (entry.startedAt) when = timeOfDay(entry.startedAt);
    row.append(el('span', 'index', String(entry.index + 1)), el('span', 'icon', icon), what, el('span', 'when', when));
    if (entry.error) row.append(el('span', 'error', entry.error.message));
    rows.push(row);
  }
  if (from + MAX_ROWS < commands.length) rows.push(el('li', 'more', `… ${commands.length - from - MAX_ROWS} more commands`));
  list.replaceChildren(...rows);
  const current = list.querySelector('[aria-current="step"]');
  if (current) list.scrollTop = Math.max(0, current.offsetTop - list.offsetTop - list.clientHeight / 3);
  renderProgress(run);
}

function renderSystem() {
  const chips = [];
  const chip = (label, on, title) => {
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
  const runDevice = state.runs.get(state.selected)?.deviceId;
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
      const add = (term, value) => {
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

/** At most this many entries in the activity panel. */
const MAX_ACTIVITY = 60;

/**
 * The selected run's activity, newest first: live events, and its history from before the page followed it.
 * Each entry: `at`, `text`, `className`, `fromHistory`, and a `key` for those history and live events share.
 */
let activity = [];
/** The keys of every entry shown for the selected run, also those since dropped off the end of the panel. */
let activityKeys = new Set();
/** Orders entries with the same time (a comment starts and ends in the same millisecond) as they happened. */
let activityOrder = 0;

/** What makes an event the same as a history entry; null for events history never has. */
function activityKey(event) {
  if (event.type === 'run.created') return 'run.created';
  if (event.type.startsWith('command.')) return `${event.type}:${event.index}`;
  return null;
}

function addActivity(event) {
  const text = describeEvent(event);
  if (!text) return;
  const rejected = event.type === 'action.rejected' || event.type === 'command.failed' || event.type === 'run.rejected';
  addEntries([{ at: event.at, key: activityKey(event), text, className: rejected ? 'rejected' : '', fromHistory: false }]);
}

/** Add what is not shown yet (by key), keep the newest MAX_ACTIVITY, and draw the panel again. */
function addEntries(entries) {
  const fresh = entries.filter((entry) => !entry.key || !activityKeys.has(entry.key));
  if (fresh.length === 0) return;
  for (const entry of fresh) {
    entry.order = activityOrder++;
    if (entry.key) activityKeys.add(entry.key);
  }
  activity = [...activity, ...fresh].sort((a, b) => b.at.localeCompare(a.at) || b.order - a.order).slice(0, MAX_ACTIVITY);
  const items = activity.map((entry) => {
    const item = el('li', `${entry.className}${entry.fromHistory ? ' history' : ''}`.trim());
    item.append(el('time', '', timeOfDay(entry.at)), el('span', '', entry.text));
    return item;
  });
  if (activity.some((entry) => entry.fromHistory)) items.push(el('li', 'history-note', 'Before this page followed the run: from its status and commands record.'));
  $('activity').replaceChildren(...items);
}

/**
 * The gateway keeps no past events, only the run's status and commands document; from those, the panel shows what
 * happened before the page followed the run (a run that ended before the page opened would otherwise show nothing):
 * created, each command's start and end, and how the run ended. Actions (pause, resume) are not in them.
 */
function historyOf(run, document) {
  const entries = [{ at: run.createdAt, key: 'run.created', text: `created on ${run.deviceId}` }];
  // Commands run one after another: the last MAX_ACTIVITY that started are all the panel can show (a run may have
  // a million commands, and a new commands document comes with each step).
  const started = [];
  for (let i = document.commands.length - 1; i >= 0 && started.length < MAX_ACTIVITY; i--) {
    if (document.commands[i].startedAt) started.unshift(document.commands[i]);
  }
  for (const entry of started) {
    const command = `#${entry.index + 1}`;
    entries.push({ at: entry.startedAt, key: `command.started:${entry.index}`, text: `${command} ${entry.command.type} started` });
    if (entry.status === 'succeeded') entries.push({ at: entry.completedAt ?? entry.startedAt, key: `command.succeeded:${entry.index}`, text: `${command} done` });
    if (entry.status === 'failed') {
      entries.push({ at: entry.completedAt ?? entry.startedAt, key: `command.failed:${entry.index}`, text: `${command} failed: ${entry.error?.message ?? 'no reason given'}`, className: 'rejected' });
    }
  }
  const history = entries.filter((entry) => entry.at).map((entry) => ({ className: '', ...entry, fromHistory: true }));
  // No event says a run ended: its status does, whether the page was watching or not.
  if (ENDED.includes(run.status) && run.completedAt) history.push({ at: run.completedAt, key: 'run.ended', text: `run ${run.status}`, className: run.status === 'succeeded' ? '' : 'rejected', fromHistory: false });
  return history;
}

/** Fill in, from each commands document, what the page saw no live event for (it may have happened before). */
function showHistory() {
  const run = state.runs.get(state.selected);
  const document = state.commands;
  if (!run || !document || document.runId !== run.runId) return;
  addEntries(historyOf(run, document));
}

function describeEvent(event) {
  switch (event.type) {
    case 'run.created':
      return `created on ${event.deviceId}`;
    case 'run.rejected':
      return event.message;
    case 'action.accepted':
      return `${event.action} accepted${event.by ? ` from ${event.by}` : ''}${event.message ? `: ${event.message}` : ''}`;
    case 'action.rejected':
      return `${event.action ?? 'action'} refused: ${event.message}`;
    case 'command.started':
      return `#${event.index + 1} ${event.commandType} started`;
    case 'command.succeeded':
      return `#${event.index + 1} done`;
    case 'command.failed':
      return `#${event.index + 1} failed: ${event.message}`;
    case 'motion.held':
      return `motion held (#${event.index + 1})`;
    case 'interlock.changed':
      return `interlock ${event.active ? 'active' : 'cleared'}: ${event.message}`;
    default:
      return event.type;
  }
}

/** What moves with the clock: the pause timer and the delay countdown. */
function tick() {
  const run = state.runs.get(state.selected);
  if (!run) return;
  expireFeedback(run);
  const since = run.pause?.since;
  if (since && !$('banner').hidden) $('pause-timer').textContent = clock((Date.now() - Date.parse(since)) / 1000);
  else if (run.status === 'pausing') $('pause-timer').textContent = '--:--';
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
  const answer = await api('GET', '/examples');
  state.examples = answer.ok ? answer.data : [];
  const select = $('example');
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
  $('new-run-dialog').showModal();
}

function fillExample() {
  const example = state.examples.find((e) => e.id === $('example').value);
  $('protocol-text').value = example ? JSON.stringify(example.protocol, null, 2) : '';
}

async function createRun(start) {
  const error = $('new-run-error');
  error.hidden = true;
  let protocol;
  try {
    protocol = JSON.parse($('protocol-text').value);
  } catch (e) {
    error.textContent = `The protocol is not valid JSON: ${e.message}`;
    error.hidden = false;
    return;
  }
  const body = { protocol };
  const runId = $('new-run-id').value.trim();
  const deviceId = $('new-run-device').value.trim();
  if (runId) body.runId = runId;
  if (deviceId) body.deviceId = deviceId;
  const created = await create(body, start);
  if (!created.ok) {
    error.textContent = created.error.message;
    error.hidden = false;
    return;
  }
  $('new-run-dialog').close();
  $('new-run-id').value = '';
}

/** POST /runs, select the new run, and play it when asked to. */
async function create(body, start) {
  const created = await api('POST', '/runs', body);
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

$('operator').value = localStorage.getItem('labrun.operator') ?? '';
$('operator').addEventListener('change', () => localStorage.setItem('labrun.operator', $('operator').value.trim()));
for (const button of document.querySelectorAll('[data-action]')) button.addEventListener('click', () => act(button.dataset.action));
$('new-run').addEventListener('click', openNewRun);
for (const button of document.querySelectorAll('[data-start-example]')) button.addEventListener('click', startExample);
$('example').addEventListener('change', fillExample);
$('protocol-file').addEventListener('change', async (e) => {
  const file = e.target.files?.[0];
  if (!file) return;
  $('protocol-text').value = await file.text();
  $('example').value = '';
});
$('cancel-new-run').addEventListener('click', () => $('new-run-dialog').close());
$('token-save').addEventListener('click', saveToken);
$('token-input').addEventListener('keydown', (e) => e.key === 'Enter' && saveToken());
// The page can do nothing without a token: Escape does not close the dialog.
$('token-dialog').addEventListener('cancel', (e) => e.preventDefault());
$('sign-out').addEventListener('click', signOut);
$('create-only').addEventListener('click', () => createRun(false));
$('create-start').addEventListener('click', () => createRun(true));
window.addEventListener('hashchange', () => {
  const runId = decodeURIComponent(location.hash.replace(/^#run=/, ''));
  if (state.runs.has(runId)) select(runId);
});

setInterval(tick, 250);
renderAll();
startSession().then(followEverything);
