/**
 * Procedurally generated machined-metal surfaces with synthetic defects: the licence-clean data behind the
 * demo bundle and the sample frames in examples/. Deterministic for a given seed, so the demo data can be
 * regenerated bit for bit from the command recorded in models/README.md.
 */

import { seededRandom as rng } from '../util/random.js';

export type DefectKind = 'scratch' | 'spot' | 'crack' | 'stain';
export const DEFECT_KINDS: readonly DefectKind[] = ['scratch', 'spot', 'crack', 'stain'];

export interface Surface {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bits. */
  rgb: Uint8Array;
  /** 255 where a defect was painted, else 0 (H×W). */
  mask: Uint8Array;
}

/** Smooth value noise on a coarse lattice, bilinearly interpolated with a smoothstep. */
function valueNoise(width: number, height: number, cell: number, rand: () => number): Float32Array {
  const gw = Math.ceil(width / cell) + 2;
  const gh = Math.ceil(height / cell) + 2;
  const grid = Float32Array.from({ length: gw * gh }, () => rand());
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const ty = gy - y0;
    const sy = ty * ty * (3 - 2 * ty);
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const tx = gx - x0;
      const sx = tx * tx * (3 - 2 * tx);
      const a = grid[y0 * gw + x0]! * (1 - sx) + grid[y0 * gw + x0 + 1]! * sx;
      const b = grid[(y0 + 1) * gw + x0]! * (1 - sx) + grid[(y0 + 1) * gw + x0 + 1]! * sx;
      out[y * width + x] = a * (1 - sy) + b * sy;
    }
  }
  return out;
}

/**
 * A defect-free surface: brushed grain along x (streaks that vary slowly across rows), low-frequency
 * illumination shading and fine sensor noise, in a slightly blue steel tint.
 */
export function goodSurface(width: number, height: number, seed: number): Surface {
  const rand = rng(seed);
  const shading = valueNoise(width, height, Math.max(8, Math.round(width / 3)), rand);
  const streakRows = valueNoise(1, height, 2, rand);
  const streakCols = valueNoise(width, 1, Math.max(4, Math.round(width / 6)), rand);
  const base = 0.5 + 0.1 * (rand() - 0.5);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const streak = (streakRows[y]! - 0.5) * 0.12 + (streakCols[x]! - 0.5) * 0.03;
      const v = base + (shading[i]! - 0.5) * 0.18 + streak + (rand() - 0.5) * 0.03;
      rgb[i * 3] = clamp8(v * 0.96);
      rgb[i * 3 + 1] = clamp8(v * 1.0);
      rgb[i * 3 + 2] = clamp8(v * 1.06);
    }
  }
  return { width, height, rgb, mask: new Uint8Array(width * height) };
}

/** A surface with one defect of the given kind painted in, and its ground-truth mask. */
export function defectiveSurface(width: number, height: number, seed: number, kind: DefectKind): Surface {
  const surface = goodSurface(width, height, seed);
  const rand = rng(seed ^ 0x5eed);
  const cx = width * (0.25 + 0.5 * rand());
  const cy = height * (0.25 + 0.5 * rand());
  const scale = Math.min(width, height);
  if (kind === 'spot') {
    const r = scale * (0.03 + 0.03 * rand());
    paintDisc(surface, cx, cy, r, [0.12, 0.11, 0.1], 0.9);
  } else if (kind === 'stain') {
    const r = scale * (0.06 + 0.05 * rand());
    paintDisc(surface, cx, cy, r, [0.62, 0.42, 0.22], 0.55);
  } else {
    // Scratches are straight and bright; cracks wander and are dark.
    const steps = kind === 'scratch' ? 2 : 8;
    let angle = rand() * Math.PI;
    const length = scale * (0.25 + 0.2 * rand());
    let x = cx - (Math.cos(angle) * length) / 2;
    let y = cy - (Math.sin(angle) * length) / 2;
    for (let s = 0; s < steps; s++) {
      if (kind === 'crack') angle += (rand() - 0.5) * 0.9;
      const nx = x + (Math.cos(angle) * length) / steps;
      const ny = y + (Math.sin(angle) * length) / steps;
      const colour: [number, number, number] = kind === 'scratch' ? [0.92, 0.93, 0.95] : [0.08, 0.08, 0.09];
      paintSegment(surface, x, y, nx, ny, kind === 'scratch' ? 1.2 : 1.6, colour);
      x = nx;
      y = ny;
    }
  }
  return surface;
}

function paintDisc(s: Surface, cx: number, cy: number, r: number, colour: [number, number, number], alpha: number): void {
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(s.height - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(s.width - 1, Math.ceil(cx + r)); x++) {
      const d = Math.hypot(x - cx, y - cy) / r;
      if (d > 1) continue;
      blend(s, x, y, colour, alpha * (1 - d * d * 0.5));
    }
  }
}

function paintSegment(s: Surface, x0: number, y0: number, x1: number, y1: number, halfWidth: number, colour: [number, number, number]): void {
  const len = Math.hypot(x1 - x0, y1 - y0) || 1;
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - halfWidth - 1));
  const maxX = Math.min(s.width - 1, Math.ceil(Math.max(x0, x1) + halfWidth + 1));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - halfWidth - 1));
  const maxY = Math.min(s.height - 1, Math.ceil(Math.max(y0, y1) + halfWidth + 1));
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      const t = Math.max(0, Math.min(1, ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / (len * len)));
      const d = Math.hypot(x - (x0 + t * (x1 - x0)), y - (y0 + t * (y1 - y0)));
      if (d <= halfWidth) blend(s, x, y, colour, 0.85);
    }
  }
}

function blend(s: Surface, x: number, y: number, colour: [number, number, number], alpha: number): void {
  const i = y * s.width + x;
  for (let c = 0; c < 3; c++) {
    s.rgb[i * 3 + c] = clamp8((s.rgb[i * 3 + c]! / 255) * (1 - alpha) + colour[c]! * alpha);
  }
  s.mask[i] = 255;
}

function clamp8(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v * 255)));
}
