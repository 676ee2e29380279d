// What GRBL 1.1 sends, line by line: response messages (`ok`, `error:N`) that answer the lines a sender wrote, and
// push messages that may come at any time. Every line is classified by its exact shape, as interface.md's
// "Message Summary" defines them; a line that fits none is `unexpected` (noise, a wrong baud rate, another
// firmware), and is never taken for a response. Also: splitting the byte stream into lines.
import { parseStatusReport, type StatusFields } from './status-report.js';

export type GrblMessage =
  | { type: 'ok' }
  | { type: 'error'; code: number }
  | { type: 'status'; fields: StatusFields }
  | { type: 'alarm'; code: number }
  /** `Grbl 1.1h ['$' for help]`: GRBL (re)started. `before` is any junk that preceded it on the same line. */
  | { type: 'welcome'; version: string; before: string }
  /** `$x=val`, a line of a `$$` settings print-out. */
  | { type: 'setting'; id: number; value: string }
  /** `$Nx=line`, a line of a `$N` startup-lines print-out. */
  | { type: 'startup-line'; index: number; line: string }
  /** `[MSG:…]`, a non-queried feedback message such as `[MSG:Reset to continue]`. */
  | { type: 'message'; text: string }
  /** `[GC:…]`, `[HLP:…]`, `[VER:…]`, `[OPT:…]`, `[G54:…]` … `[PRB:…]`, `[echo:…]`: queried feedback. */
  | { type: 'feedback'; kind: string; text: string }
  /** `>G54G20:ok`: GRBL ran a stored startup line (its `:ok` is not a response to anything the sender wrote). */
  | { type: 'startup-executed'; line: string; result: 'ok' | { error: number } }
  | { type: 'empty' }
  | { type: 'unexpected'; line: string; reason: string };

const WELCOME = /Grbl (\d+\.\d+[a-z]?) \['\$' for help\]/;

/** Classify one line GRBL sent, without its line ending. */
export function classifyLine(line: string): GrblMessage {
  if (line === 'ok') return { type: 'ok' };
  if (line === '') return { type: 'empty' };
  let match = /^error:(\d{1,3})$/.exec(line);
  if (match) return { type: 'error', code: Number(match[1]) };
  match = /^ALARM:(\d{1,3})$/.exec(line);
  if (match) return { type: 'alarm', code: Number(match[1]) };
  // A reset can cut off whatever GRBL was sending, so the welcome may end a line that began as something else.
  match = WELCOME.exec(line);
  if (match && match.index + match[0].length === line.length) return { type: 'welcome', version: match[1]!, before: line.slice(0, match.index) };
  if (line.startsWith('<')) {
    const fields = parseStatusReport(line);
    return fields ? { type: 'status', fields } : { type: 'unexpected', line, reason: 'malformed status report' };
  }
  match = /^\[MSG:(.*)\]$/.exec(line);
  if (match) return { type: 'message', text: match[1]! };
  match = /^\[([A-Za-z][A-Za-z0-9]*):(.*)\]$/.exec(line);
  if (match) return { type: 'feedback', kind: match[1]!, text: match[2]! };
  match = /^\$(\d{1,3})=(.*)$/.exec(line);
  if (match) return { type: 'setting', id: Number(match[1]), value: match[2]! };
  match = /^\$N(\d)=(.*)$/.exec(line);
  if (match) return { type: 'startup-line', index: Number(match[1]), line: match[2]! };
  match = /^>(.*):(ok|error:(\d{1,3}))$/.exec(line);
  if (match) return { type: 'startup-executed', line: match[1]!, result: match[2] === 'ok' ? 'ok' : { error: Number(match[3]) } };
  return { type: 'unexpected', line, reason: 'not a GRBL 1.1 message' };
}

/**
 * Splits the controller's byte stream into lines. GRBL ends lines with `\r\n`; a bare `\n` or `\r` ends one too.
 * Bytes are read as Latin-1 so that noise can never fail to decode. A "line" longer than `maxLength` without an
 * end is noise (or the wrong baud rate): it is cut there and reported as a line, so memory stays bounded.
 */
export class LineSplitter {
  private partial = '';
  private lastWasCR = false;

  constructor(private readonly maxLength = 512) {}

  push(chunk: Uint8Array): string[] {
    const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const lines: string[] = [];
    for (const char of text) {
      if (char === '\n' && this.lastWasCR) {
        this.lastWasCR = false; // the \n of a \r\n
        continue;
      }
      this.lastWasCR = char === '\r';
      if (char === '\r' || char === '\n') {
        lines.push(this.partial);
        this.partial = '';
      } else {
        this.partial += char;
        if (this.partial.length >= this.maxLength) {
          lines.push(this.partial);
          this.partial = '';
        }
      }
    }
    return lines;
  }
}
