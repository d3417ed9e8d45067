#include "regions.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace mmaerec {

std::vector<MapRegion> find_regions(const float* map, int w, int h, double threshold) {
  const std::size_t n = static_cast<std::size_t>(w) * h;
  std::vector<std::uint8_t> seen(n, 0);
  std::vector<int> stack;
  std::vector<MapRegion> out;
  auto above = [&](std::size_t i) { return static_cast<double>(map[i]) >= threshold; };
  for (std::size_t start = 0; start < n; ++start) {
    if (seen[start] || !above(start)) continue;
    // Depth-first flood fill from the first pixel met in raster order.
    MapRegion r;
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    double sum = 0.0, best = -INFINITY;
    seen[start] = 1;
    stack.push_back(static_cast<int>(start));
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      const int x = i % w, y = i / w;
      const double v = map[i];
      ++r.area;
      sum += v;
      best = std::max(best, v);
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
      for (int dy = -1; dy <= 1; ++dy) {
        const int yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (int dx = -1; dx <= 1; ++dx) {
          const int xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const std::size_t j = static_cast<std::size_t>(yy) * w + xx;
          if (!seen[j] && above(j)) {
            seen[j] = 1;
            stack.push_back(static_cast<int>(j));
          }
        }
      }
    }
    r.x = x0;
    r.y = y0;
    r.width = x1 - x0 + 1;
    r.height = y1 - y0 + 1;
    r.max_score = best;
    r.mean_score = sum / static_cast<double>(r.area);
    out.push_back(r);
  }
  return out;
}

}  // namespace mmaerec
