/** A connected group of map pixels at or above a threshold (8-connectivity), in map pixels. */
export interface MapRegion {
  /** Bounding box. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Number of pixels in the component. */
  area: number;
  maxScore: number;
  meanScore: number;
}

/** Components in raster order of their first pixel; NaN pixels belong to none. */
export function regionsRef(map: Float32Array, width: number, height: number, threshold: number): MapRegion[] {
  const seen = new Uint8Array(width * height);
  const out: MapRegion[] = [];
  for (let start = 0; start < map.length; start++) {
    if (seen[start] || !(map[start] >= threshold)) continue;
    let [x0, y0, x1, y1, area, sum, best] = [width, height, -1, -1, 0, 0, -Infinity];
    const queue = [start];
    seen[start] = 1;
    while (queue.length > 0) {
      const i = queue.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      area++;
      sum += map[i];
      best = Math.max(best, map[i]);
      [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
      for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
          const j = yy * width + xx;
          if (!seen[j] && map[j] >= threshold) {
            seen[j] = 1;
            queue.push(j);
          }
        }
      }
    }
    out.push({ x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1, area, maxScore: best, meanScore: sum / area });
  }
  return out;
}
