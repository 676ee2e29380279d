// Speed along a straight move over time, with constant acceleration: the trapezoid GRBL's planner plans for a
// block (speed up, cruise, slow down), and the straight deceleration of a feed hold. Units: mm, mm/s, mm/s², s.
// Simplification: every block starts and ends at rest; GRBL's look-ahead would carry speed through junctions.

export interface Profile {
  /** Seconds from start to rest. */
  readonly duration: number;
  /** Millimetres travelled from start to rest. */
  readonly distance: number;
  /** Distance travelled and speed, `t` seconds after the start (clamped to the profile). */
  at(t: number): { s: number; v: number };
  /** The first time at which the distance travelled reaches `s` (0 ≤ s ≤ distance). */
  timeAt(s: number): number;
}

/**
 * From rest to rest over `distance`, accelerating at `accel` up to `maxSpeed` at most. When the move is too
 * short to reach full speed the trapezoid becomes a triangle.
 */
export function trapezoid(distance: number, maxSpeed: number, accel: number): Profile {
  if (distance <= 0) return still();
  const peak = Math.min(maxSpeed, Math.sqrt(accel * distance));
  const rampTime = peak / accel;
  const rampDistance = (peak * peak) / (2 * accel);
  const cruiseDistance = Math.max(0, distance - 2 * rampDistance);
  const cruiseTime = cruiseDistance / peak;
  const duration = 2 * rampTime + cruiseTime;
  return {
    duration,
    distance,
    at(t) {
      if (t <= 0) return { s: 0, v: 0 };
      if (t < rampTime) return { s: 0.5 * accel * t * t, v: accel * t };
      if (t < rampTime + cruiseTime) return { s: rampDistance + peak * (t - rampTime), v: peak };
      if (t < duration) {
        const d = t - rampTime - cruiseTime;
        return { s: rampDistance + cruiseDistance + peak * d - 0.5 * accel * d * d, v: peak - accel * d };
      }
      return { s: distance, v: 0 };
    },
    timeAt(s) {
      if (s <= 0) return 0;
      if (s < rampDistance) return Math.sqrt((2 * s) / accel);
      if (s < rampDistance + cruiseDistance) return rampTime + (s - rampDistance) / peak;
      if (s >= distance) return duration;
      // Solve peak·d − accel·d²/2 = s − ramp − cruise for the first root.
      const rest = s - rampDistance - cruiseDistance;
      const d = (peak - Math.sqrt(Math.max(0, peak * peak - 2 * accel * rest))) / accel;
      return rampTime + cruiseTime + d;
    },
  };
}

/** Slowing down from `speed` to rest at `accel`: a feed hold. Never longer than `maxDistance`. */
export function stopping(speed: number, accel: number, maxDistance: number): Profile {
  if (speed <= 0 || maxDistance <= 0) return still();
  // A block planned to stop at its end can always stop within it; the cap only absorbs rounding.
  const natural = (speed * speed) / (2 * accel);
  const distance = Math.min(natural, maxDistance);
  const duration = (speed - Math.sqrt(Math.max(0, speed * speed - 2 * accel * distance))) / accel;
  return {
    duration,
    distance,
    at(t) {
      if (t <= 0) return { s: 0, v: speed };
      if (t >= duration) return { s: distance, v: 0 };
      return { s: speed * t - 0.5 * accel * t * t, v: speed - accel * t };
    },
    timeAt(s) {
      if (s <= 0) return 0;
      if (s >= distance) return duration;
      return (speed - Math.sqrt(Math.max(0, speed * speed - 2 * accel * s))) / accel;
    },
  };
}

/** A move of no length. */
export function still(): Profile {
  return { duration: 0, distance: 0, at: () => ({ s: 0, v: 0 }), timeAt: () => 0 };
}
