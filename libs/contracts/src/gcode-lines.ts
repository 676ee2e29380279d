// What a protocol's raw G-code (`gcode` command) may say, checked before the run starts the way GRBL 1.1 would
// read each line (protocol.c's line reader, then gcode.c's words), so that a typo is refused at create with the
// line named, not answered `error:N` by the controller mid-run. GRBL stays the judge of what a line means
// (modal groups, missing feed, targets): this only keeps out what must never reach it from a protocol.

/**
 * The limits of a `gcode` command. `lines`: a short block for what has no command of its own; a program belongs in
 * commands. `significant`: GRBL's line buffer is 80 bytes (LINE_BUFFER_SIZE) and keeps one for its terminator,
 * so 79 characters are left once it has dropped spaces and comments; an 80th is `error:11`. `written`: the line
 * as sent, newline included, must fit GRBL's 128-byte serial receive buffer, which the driver counts characters
 * against (127 characters).
 */
export const GCODE_LIMITS = { lines: 100, significant: 79, written: 127 } as const;

/** The words GRBL 1.1 reads (gcode.c): commands G and M, and the value words. */
export const GCODE_WORDS = 'GMXYZFSPTNLRIJK';

/** GRBL's real-time commands: it acts on these bytes the moment they arrive, wherever they stand in a line. */
const REALTIME: Record<string, string> = { '?': 'status report', '!': 'feed hold', '~': 'cycle start', '\x18': 'soft reset' };

/** Commands GRBL reads that a protocol must not send it as raw G-code, and what to use instead. */
const REFUSED: Record<string, string> = {
  M0: 'M0 (program pause) would hold the controller with the run not knowing why: use a pause command',
  G93: 'G93 (inverse time feed) would change what F means for the moves after the block, which labrun sends in mm/min: keep to G94',
};

const hex = (c: string) => `0x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Why `line` cannot be sent to GRBL as a line of a `gcode` command, or undefined when it can. */
export function gcodeLineProblem(line: string): string | undefined {
  if (line.length > GCODE_LIMITS.written) return `${line.length} characters, at most ${GCODE_LIMITS.written} (with its newline a line must fit GRBL's 128-byte receive buffer)`;
  for (const c of line) {
    if (REALTIME[c]) return `${JSON.stringify(c)} is GRBL's real-time ${REALTIME[c]} command, which it carries out the moment it arrives, even inside a comment`;
    if (c.charCodeAt(0) >= 0x80) return `${JSON.stringify(c)} is not plain ASCII: GRBL takes bytes from 0x80 up as real-time commands`;
    if (c === '\n' || c === '\r') return 'a line break inside a line: give each line as its own list item';
    if (c !== '\t' && (c < ' ' || c === '\x7f')) return `a control character (${hex(c)})`;
    if (c === '$') return '"$" starts a GRBL system command ($H, $X, $$, settings), not G-code: home with a home command; settings belong to the controller, not to a protocol';
  }
  const significant = readAsGrbl(line);
  if (significant.length > GCODE_LIMITS.significant) {
    return `${significant.length} characters without spaces and comments, at most ${GCODE_LIMITS.significant} (GRBL's 80-byte line buffer; it answers a longer line error:11)`;
  }
  return wordProblem(significant);
}

/** The line as GRBL's line reader keeps it: comments, spaces and block-delete `/` dropped, letters upper-cased. */
function readAsGrbl(line: string): string {
  let kept = '';
  let inParentheses = false;
  for (const c of line) {
    if (inParentheses) {
      if (c === ')') inParentheses = false;
      continue;
    }
    if (c === ';') break;
    if (c === '(') inParentheses = true;
    else if (c > ' ' && c !== '/') kept += c.toUpperCase();
  }
  return kept;
}

/** Every word is a letter GRBL 1.1 knows and a number it reads (read_float: a sign, digits, one point). */
function wordProblem(significant: string): string | undefined {
  const word = /([A-Z])([-+]?(?:\d+\.?\d*|\.\d+))/y;
  let at = 0;
  while (at < significant.length) {
    word.lastIndex = at;
    const match = word.exec(significant);
    const letter = significant[at]!;
    if (!match) {
      if (!GCODE_WORDS.includes(letter)) return notAWord(letter);
      return `${letter} must be followed by a number (as in ${letter === 'G' || letter === 'M' ? `${letter}1` : `${letter}10`}), not ${JSON.stringify(significant.slice(at + 1, at + 6) || 'nothing')}`;
    }
    if (!GCODE_WORDS.includes(letter)) return notAWord(letter);
    const refused = REFUSED[`${letter}${Number(match[2])}`];
    if (refused) return refused;
    at = word.lastIndex;
  }
  return undefined;
}

const notAWord = (c: string) =>
  /[A-Z]/.test(c) ? `${c} is not a word GRBL 1.1 reads (it reads ${GCODE_WORDS.split('').join(' ')})` : `${JSON.stringify(c)} where GRBL expects a word such as G1 or X10`;

/** What a block of G-code may leave switched on: GRBL's spindle (M3, M4) and its coolant (M7, M8). */
export interface GcodeAccessories {
  spindle: boolean;
  coolant: boolean;
}

/**
 * Whether a block switches the spindle or the coolant on anywhere in it (as GRBL reads its lines: comments dropped,
 * `M03` is `M3`). A block that switches one on and off again still counts: switching it off once more is harmless.
 */
export function gcodeAccessories(lines: readonly string[]): GcodeAccessories {
  const found = { spindle: false, coolant: false };
  for (const line of lines) {
    for (const [, value] of readAsGrbl(line).matchAll(/M0*(\d+)(?:\.0*)?(?![\d.])/g)) {
      if (value === '3' || value === '4') found.spindle = true;
      if (value === '7' || value === '8') found.coolant = true;
    }
  }
  return found;
}
