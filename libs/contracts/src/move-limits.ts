// The limits of what a move can ask of a motion controller, shared by the protocol schema and the labware resolution.

/**
 * What a move can ask of a motion controller, as GRBL reads numbers: G-code carries 3 decimals of a millimetre,
 * so a feed below 0.001 mm/min would be sent as F0 (error:22), and GRBL reads no exponent (1e21 is error:20).
 */
export const MOVE_LIMITS = { coordinateMm: 100_000, feedMin: 0.001, feedMax: 1_000_000 } as const;

/** GRBL's resolution: G-code carries 3 decimals of a millimetre, so a target is rounded to it (no 23.380000000000003). */
export function roundToController(mm: number): number {
  const rounded = Math.round(mm * 1000) / 1000;
  return rounded === 0 ? 0 : rounded; // never -0 on the wire
}
