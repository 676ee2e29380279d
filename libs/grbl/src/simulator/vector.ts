// Positions in machine coordinates: millimetres on X, Y and Z, the axes GRBL drives (index 0, 1, 2 as in GRBL).
export type Vec3 = [number, number, number];

export const AXES = [0, 1, 2] as const;
export const AXIS_LETTERS = ['X', 'Y', 'Z'] as const;

export const origin = (): Vec3 => [0, 0, 0];

export function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
}

/** The point `s` mm from `from` along the unit vector `unit`. */
export function along(from: Vec3, unit: Vec3, s: number): Vec3 {
  return [from[0] + unit[0] * s, from[1] + unit[1] * s, from[2] + unit[2] * s];
}

/** Round to the controller's resolution: GRBL counts position in whole motor steps. */
export function toSteps(p: Vec3, stepsPerMm: (axis: number) => number): Vec3 {
  return p.map((v, axis) => Math.round(v * stepsPerMm(axis)) / stepsPerMm(axis)) as Vec3;
}
