import { describe, expect, it } from 'vitest';
import { GCODE_LIMITS, gcodeAccessories, gcodeLineProblem } from './gcode-lines.js';

describe('gcodeLineProblem', () => {
  it.each([
    'G91',
    'G1 Z-2 F300',
    'g1 x10.5 y-.5 f1200 (lower case, as GRBL upper-cases it)',
    'G4 P0.5 ; dwell',
    '(only a comment)',
    '',
    '\tG0\tX1',
    'N10 G1 X1 F100',
    'M3 S500',
    'G38.2 Z-5 F100',
    'G10 L20 P1 X0',
    'M1',
    '/G0 X1',
  ])('takes %j', (line) => {
    expect(gcodeLineProblem(line)).toBeUndefined();
  });

  it.each([
    ['$H', '"$" starts a GRBL system command'],
    ['G0 X1 ($X)', '"$" starts a GRBL system command'],
    ['G0 X1?', '"?" is GRBL\'s real-time status report command'],
    ['(hold!)', '"!" is GRBL\'s real-time feed hold command'],
    ['G0 ~', '"~" is GRBL\'s real-time cycle start command'],
    ['G0\x18', 'soft reset'],
    ['G0 X1 é', 'not plain ASCII'],
    ['G0\nG1', 'a line break inside a line'],
    ['G0\x07', 'a control character (0x07)'],
    ['A10', 'A is not a word GRBL 1.1 reads (it reads G M X Y Z F S P T N L R I J K)'],
    ['G1 E5', 'E is not a word GRBL 1.1 reads'],
    ['% start', '"%" where GRBL expects a word'],
    ['10', '"1" where GRBL expects a word'],
    ['G1 X', 'X must be followed by a number (as in X10), not "nothing"'],
    ['G1 X1O', 'O is not a word'],
    ['G', 'G must be followed by a number (as in G1)'],
    ['M0', 'M0 (program pause) would hold the controller'],
    ['M00', 'M0 (program pause)'],
    ['G93 G1 X1 F2', 'G93 (inverse time feed)'],
  ])('refuses %j saying %j', (line, reason) => {
    expect(gcodeLineProblem(line)).toContain(reason);
  });

  it(`counts ${GCODE_LIMITS.significant} characters as GRBL keeps them, and ${GCODE_LIMITS.written} as written`, () => {
    const word = (n: number) => `X${'1'.repeat(n - 1)}`;
    expect(gcodeLineProblem(word(79))).toBeUndefined();
    expect(gcodeLineProblem(word(80))).toBe("80 characters without spaces and comments, at most 79 (GRBL's 80-byte line buffer; it answers a longer line error:11)");
    // Spaces and comments are dropped before GRBL's buffer: a long comment is fine until the receive buffer's limit.
    expect(gcodeLineProblem(`G0 X1 (${'c'.repeat(119)})`)).toBeUndefined();
    expect(gcodeLineProblem(`G0 X1 (${'c'.repeat(120)})`)).toBe("128 characters, at most 127 (with its newline a line must fit GRBL's 128-byte receive buffer)");
  });
});

describe('what a G-code block switches on', () => {
  it('finds the spindle (M3, M4) and the coolant (M7, M8) as GRBL reads the lines: M03 is M3, comments are not read', () => {
    expect(gcodeAccessories(['M3 S500'])).toEqual({ spindle: true, coolant: false });
    expect(gcodeAccessories(['g0 x1', 'm04s100', 'm08'])).toEqual({ spindle: true, coolant: true });
    expect(gcodeAccessories(['M7'])).toEqual({ spindle: false, coolant: true });
    expect(gcodeAccessories(['(M3) G1 X1 F100 ; M8', 'M30', 'M5 M9', 'M38'])).toEqual({ spindle: false, coolant: false });
  });
});
