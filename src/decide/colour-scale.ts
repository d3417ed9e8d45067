/**
 * The one colour scale of the SDK, for heatmap overlays on the line and in evaluation reports alike, so that a
 * colour means the same score fraction everywhere: turbo-like, piecewise linear through 6 stops, dark blue →
 * blue → cyan → green → orange → dark red (perceptually ordered enough for defect overlays, cheap to compute).
 */
const STOPS: readonly (readonly [number, number, number, number])[] = [
  [0, 48, 18, 59], [0.2, 40, 120, 240], [0.4, 30, 210, 190], [0.6, 160, 250, 60], [0.8, 250, 160, 30], [1, 122, 4, 3],
];

/** RGB (0–255, not rounded) at t in [0, 1]; t outside is clamped, NaN shows as the top of the scale. */
export function colourAt(t: number): [number, number, number] {
  const v = Number.isNaN(t) ? 1 : Math.min(1, Math.max(0, t));
  for (let k = 1; k < STOPS.length; k++) {
    const [t1, r1, g1, b1] = STOPS[k]!;
    if (v <= t1) {
      const [t0, r0, g0, b0] = STOPS[k - 1]!;
      const f = (v - t0) / (t1 - t0);
      return [r0 + (r1 - r0) * f, g0 + (g1 - g0) * f, b0 + (b1 - b0) * f];
    }
  }
  return [STOPS[STOPS.length - 1]![1], STOPS[STOPS.length - 1]![2], STOPS[STOPS.length - 1]![3]];
}

/** colourAt sampled at 256 levels as rounded RGB bytes, for per-pixel loops. */
export const COLOUR_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(colourAt(i / 255).map(Math.round), i * 3);
  return lut;
})();
