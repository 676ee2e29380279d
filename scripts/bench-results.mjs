// What scripts/bench.mjs and scripts/bench-compare.mjs both write into a report: the machine, the code measured, and
// the part of RESULTS.md that holds the before/after comparisons (a full run rewrites the rest of the file, not that).
import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** The level-1 heading the comparisons start at; everything from it on is the comparisons' own. */
export const COMPARISONS_HEADING = '# Before and after';

/** The comparisons part of a RESULTS.md (from its heading to the end), or '' where there is none yet. */
export function comparisonsPart(markdown) {
  const at = markdown.search(new RegExp(`^${COMPARISONS_HEADING}$`, 'm'));
  return at < 0 ? '' : markdown.slice(at);
}

export function machine() {
  const cpus = os.cpus();
  return {
    os: `${os.type()} ${os.release()} (${os.platform()}-${os.arch()})`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

export const describeMachine = (m) => `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}`;

/** The revision checked out in `dir`: `{ dir, revision, subject, changed }` (changed: tracked files differ from it). */
export function describeCheckout(dir) {
  const git = (...args) => spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8' });
  const head = git('log', '-1', '--format=%h%x00%s');
  if (head.status !== 0) return { dir, revision: null, subject: null, changed: null };
  const [revision, subject] = head.stdout.trim().split('\0');
  return { dir, revision, subject, changed: git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '' };
}

/** `6c9ebef "Contracts actionIdentity: …" with uncommitted changes`, for a report. */
export function describeCode({ dir, revision, subject, changed }) {
  if (!revision) return `${dir} (not a git checkout)`;
  const short = subject.length > 60 ? `${subject.slice(0, 59)}…` : subject;
  return `${revision} "${short}"${changed ? ' with uncommitted changes' : ''}`;
}
