#!/usr/bin/python3
"""Independent recomputation of eval's metrics from its output files, with numpy only.

    /usr/bin/python3 test/eval/crosscheck_metrics.py <eval --out dir (made with --save-maps)> <dataset root> [nearest|area]

Reads scores.json, labels.json and maps/<defect>/<stem>.npy, decodes the ground-truth PNG masks itself (zlib,
no PIL), resizes them like eval (nearest with half-pixel centres), and computes image AUROC, pixel AUROC and AP
the way sklearn does (roc_curve / average_precision_score: distinct thresholds, cumulative sums) and AUPRO with
the code structure of MVTec AD's evaluation script (compute_pro + trapezoid with x_max=0.3, 8-connectivity).
Prints both and the differences. test/eval/crosscheck.test.ts runs it on a synthetic dataset wherever
/usr/bin/python3 has numpy (Debian's python3-onnx pulls it in); run it by hand on real runs.
"""
import json
import os
import struct
import sys
import zlib
from collections import deque

import numpy as np


def read_png_gray(path):
    """8-bit gray / gray+alpha / RGB(A) PNG, non-interlaced → uint8 gray (first channel)."""
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', path
    pos, idat, ihdr = 8, b'', None
    while pos < len(data):
        length, = struct.unpack('>I', data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0, f'{path}: unsupported PNG ({depth} bit, interlace {interlace})'
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * ch
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int32)
        if f == 0:
            cur = line
        elif f == 1:  # Sub: running sum along the row, per channel
            cur = np.cumsum(line.reshape(w, ch), axis=0).ravel() & 255
        elif f == 2:  # Up
            cur = (line + prev) & 255
        else:  # Average / Paeth: sequential
            cur = np.zeros(stride, dtype=np.int32)
            for x in range(stride):
                a = cur[x - ch] if x >= ch else 0
                b = prev[x]
                c = prev[x - ch] if x >= ch else 0
                if f == 3:
                    v = line[x] + ((a + b) >> 1)
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    v = line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
                cur[x] = v & 255
        out[y] = cur
        prev = cur
    return out[:, ::ch]


def resize_nearest(mask, w, h):
    H, W = mask.shape
    xs = np.minimum(W - 1, np.floor((np.arange(w) + 0.5) * W / w).astype(int))
    ys = np.minimum(H - 1, np.floor((np.arange(h) + 0.5) * H / h).astype(int))
    return mask[ys][:, xs]


def label8(mask):
    labels = np.zeros(mask.shape, dtype=np.int32)
    n = 0
    H, W = mask.shape
    for y0, x0 in zip(*np.nonzero(mask)):
        if labels[y0, x0]:
            continue
        n += 1
        labels[y0, x0] = n
        q = deque([(y0, x0)])
        while q:
            y, x = q.popleft()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < H and 0 <= xx < W and mask[yy, xx] and not labels[yy, xx]:
                        labels[yy, xx] = n
                        q.append((yy, xx))
    return labels, n


def binary_curve(y, s):
    """sklearn's _binary_clf_curve: cumulative tps/fps at distinct thresholds, highest first."""
    order = np.argsort(s, kind='mergesort')[::-1]
    s, y = s[order], y[order]
    idx = np.r_[np.where(np.diff(s))[0], y.size - 1]
    tps = np.cumsum(y, dtype=np.float64)[idx]
    fps = 1 + idx - tps
    return tps, fps


def auroc(y, s):
    tps, fps = binary_curve(y, s)
    tpr = np.r_[0, tps / tps[-1]]
    fpr = np.r_[0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(y, s):
    tps, fps = binary_curve(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0, recall]) * precision))


def trapezoid(x, y, x_max):
    """MVTec AD's generic_util.trapezoid with x_max."""
    correction = 0.
    if x_max not in x:
        ins = np.searchsorted(x, x_max, side='right')
        y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1]))
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    mask = x <= x_max
    x, y = x[mask], y[mask]
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction)


def compute_pro(maps, masks):
    """MVTec AD's compute_pro: fp_changes / pro_changes, one sort, keep the last point of each tie group."""
    fp_changes, pro_changes = [], []
    num_ok, num_regions = 0, 0
    for gt in masks:
        labels, n = label8(gt)
        num_regions += n
        ok = labels == 0
        num_ok += int(ok.sum())
        fp = ok.astype(np.uint32).ravel()
        pro = np.zeros(gt.size, dtype=np.float64)
        flat = labels.ravel()
        if n:
            sizes = np.bincount(flat, minlength=n + 1)
            sel = flat > 0
            pro[sel] = 1. / sizes[flat[sel]]
        fp_changes.append(fp)
        pro_changes.append(pro)
    scores = np.concatenate([m.ravel() for m in maps])
    fp_changes = np.concatenate(fp_changes)
    pro_changes = np.concatenate(pro_changes)
    order = np.argsort(scores, kind='mergesort')[::-1]
    scores, fp_changes, pro_changes = scores[order], fp_changes[order], pro_changes[order]
    fprs = np.cumsum(fp_changes, dtype=np.float64) / num_ok
    pros = np.cumsum(pro_changes) / num_regions
    keep = np.append(np.diff(scores) != 0, np.True_)
    fprs, pros = np.clip(fprs[keep], None, 1.), np.clip(pros[keep], None, 1.)
    return np.r_[0., fprs, 1.], np.r_[0., pros, 1.]


def main():
    out, root = sys.argv[1], sys.argv[2]
    scores = json.load(open(os.path.join(out, 'scores.json')))
    labels = json.load(open(os.path.join(out, 'labels.json')))
    metrics = json.load(open(os.path.join(out, 'metrics.json')))
    keys = sorted(scores)
    img = auroc(np.array([labels[k] for k in keys]), np.array([scores[k] for k in keys]))
    maps, masks = [], []
    for k in keys:
        defect, stem = k.split('/', 1)
        m = np.load(os.path.join(out, 'maps', defect, stem + '.npy'))
        if labels[k] == 0:
            gt = np.zeros(m.shape, dtype=np.uint8)
        else:
            path = os.path.join(root, 'ground_truth', defect, stem + '_mask.png')
            if not os.path.exists(path):
                continue
            gt = (resize_nearest(read_png_gray(path), m.shape[1], m.shape[0]) >= 128).astype(np.uint8)
        maps.append(m.astype(np.float32))
        masks.append(gt)
    y = np.concatenate([g.ravel() for g in masks]).astype(np.int64)
    s = np.concatenate([m.ravel() for m in maps])
    px = auroc(y, s)
    ap = average_precision(y, s)
    fprs, pros = compute_pro(maps, masks)
    aupro = trapezoid(fprs, pros, 0.3) / 0.3
    ours = metrics['overall']
    for name, theirs, mine in [('image AUROC', img, ours['imageAuroc']), ('pixel AUROC', px, ours['pixelAuroc']),
                               ('pixel AP', ap, ours['pixelAp']), ('AUPRO', aupro, ours['aupro'])]:
        print(f'{name:12s} numpy {theirs:.10f}  eval {mine:.10f}  diff {abs(theirs - mine):.2e}')


if __name__ == '__main__':
    main()
