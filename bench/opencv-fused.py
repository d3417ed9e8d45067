#!/usr/bin/env python3
"""The fused score of method.md §6 composed from OpenCV calls, for `npm run bench:scoring` to time the native core
against (issue 17: >= 10x). A competent composition, not a strawman: float32 throughout, one cvtColor per image
for Lab, separable Prewitt through filter2D, INTER_AREA halving for the 2x2 pool, INTER_LINEAR upsampling (half-pixel
centres, as the method), normalised boxFilter for the box means. One thread (cv2.setNumThreads(1)).

  /usr/bin/python3 bench/opencv-fused.py <width> <height> <runs>
prints one JSON line: {"opencv": "<version>", "ms": <median wall ms>, "cpu_ms": <median process CPU ms>,
"score": <max of the map>} (on a shared, loaded machine the CPU time shows the work, the wall time the wait).
Needs Debian's python3-opencv (apt-get install python3-opencv) and numpy.
"""
import json
import sys
import time

import cv2
import numpy as np


def pair(w, h):
    # The same synthetic pair as bench/scoring.ts (a smooth field plus 2 % noise), from numpy's generator.
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.5 + 0.3 * np.sin(x * 0.05) * np.cos(y * 0.07)
    rng = np.random.default_rng(12345)
    a = (base[..., None] + 0.02 * rng.random((h, w, 3))).astype(np.float32)
    b = (base[..., None] + 0.02 * rng.random((h, w, 3))).astype(np.float32)
    return a, b


PREWITT_X = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], np.float32) / 3.0
PREWITT_Y = PREWITT_X.T.copy()


def gms(a, b, c):
    def mag2(img):
        gx = cv2.filter2D(img, cv2.CV_32F, PREWITT_X, borderType=cv2.BORDER_CONSTANT)
        gy = cv2.filter2D(img, cv2.CV_32F, PREWITT_Y, borderType=cv2.BORDER_CONSTANT)
        return gx * gx + gy * gy + 1e-12

    qa, qb = mag2(a), mag2(b)
    return ((2.0 * np.sqrt(qa * qb) + c) / (qa + qb + c)).mean(axis=2)


def fused(a, b, scales=4, c=0.0026, mu=1e-3, sw=21, cw=11):
    h, w = a.shape[:2]
    ms = np.zeros((h, w), np.float32)
    pa, pb = a, b
    for s in range(scales):
        g = gms(pa, pb, c)
        ms += g if s == 0 else cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)
        if s + 1 < scales:
            size = (pa.shape[1] // 2, pa.shape[0] // 2)
            pa = cv2.resize(pa, size, interpolation=cv2.INTER_AREA)
            pb = cv2.resize(pb, size, interpolation=cv2.INTER_AREA)
    ms /= scales
    la = cv2.cvtColor(np.clip(a, 0, 1), cv2.COLOR_RGB2Lab)
    lb = cv2.cvtColor(np.clip(b, 0, 1), cv2.COLOR_RGB2Lab)
    de2 = ((la - lb) ** 2).sum(axis=2)
    structure = cv2.boxFilter(ms, -1, (sw, sw), normalize=True, borderType=cv2.BORDER_CONSTANT)
    color = cv2.boxFilter(de2, -1, (cw, cw), normalize=True, borderType=cv2.BORDER_CONSTANT)
    amap = (1.0 - structure) + mu * color
    return amap, float(amap.max())


def main():
    w, h, runs = (int(v) for v in sys.argv[1:4])
    cv2.setNumThreads(1)
    a, b = pair(w, h)
    for _ in range(min(10, runs)):
        fused(a, b)
    times, cpu = [], []
    score = 0.0
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        _, score = fused(a, b)
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    times.sort()
    cpu.sort()
    print(json.dumps({"opencv": cv2.__version__, "ms": times[len(times) // 2], "cpu_ms": cpu[len(cpu) // 2], "score": score}))


if __name__ == "__main__":
    main()
