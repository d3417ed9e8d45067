/** Sampling a sorted list evenly: the feature bank's images, auto-tiling's headers, the position statistics. */

/** Every `step`-th element so that at most `max` remain, spread over the whole list. */
export function spread<T>(list: T[], max: number): T[] {
  if (list.length <= max) return list;
  const step = list.length / max;
  return Array.from({ length: max }, (_, i) => list[Math.floor(i * step)]!);
}
