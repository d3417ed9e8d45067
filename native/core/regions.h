// Connected components (8-connectivity) of the pixels of a map at or above a threshold.
#pragma once
#include <vector>

namespace mmaerec {

struct MapRegion {
  int x = 0, y = 0, width = 0, height = 0;  // bounding box, map pixels
  long long area = 0;                        // pixels in the component
  double max_score = 0.0, mean_score = 0.0;  // over the component's pixels
};

/**
 * Components in raster order of their first pixel (top-most row, then left-most). Non-finite map values
 * never belong to a region.
 */
std::vector<MapRegion> find_regions(const float* map, int width, int height, double threshold);

}  // namespace mmaerec
