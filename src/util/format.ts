/**
 * How numbers and boxes read in every human-facing line (CLI text, logs, the demo, `info`), so that one command's
 * output can be compared with another's. JSON output keeps full precision.
 */

/** A score or threshold: 4 significant digits (0.8086, 12.35, 0.001235). */
export function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(4) : String(value);
}

/** A box in image pixels as width×height+x+y (X11 geometry; the order `roi` errors and the config use). */
export function formatBox(box: { x: number; y: number; width: number; height: number }): string {
  return `${box.width}×${box.height}+${box.x}+${box.y}`;
}
