#!/usr/bin/env python3
# The numpy script `datasan scan x.npy --labels y.npy --num-classes 10` is measured against (issue 13
# item 4). It does the same checks: np.load with mmap_mode, chunks of 8192 rows, rows with NaN / Inf,
# labels outside [0, 10), per-feature min / max / mean / std (float64) over the clean rows.
#
# The data (1 GiB float32, 262144 x 1024, one NaN and one Inf; int64 labels), in /tmp/npy-bench:
#   a = np.lib.format.open_memmap('x.npy', mode='w+', dtype=np.float32, shape=(262144, 1024))
#   filled with np.random.default_rng(0).standard_normal in chunks; a[1000, 5] = nan; a[200000, 7] = inf
#   np.save('y.npy', (np.arange(262144) % 10).astype(np.int64))
# Measured: python3 /work/shared/bench/proctime.py -n 5 --warmup 1 \
#   --vs 'python3 bench/npy_scan_numpy.py x.npy y.npy' -- .build/release/datasan scan x.npy --labels y.npy --num-classes 10
import sys
import numpy as np
x = np.load(sys.argv[1], mmap_mode="r")
y = np.load(sys.argv[2], mmap_mode="r")
d = x.shape[1]
lo = np.full(d, np.inf); hi = np.full(d, -np.inf); s = np.zeros(d); ss = np.zeros(d); n = 0
bad_rows = []
for i in range(0, len(x), 8192):
    c = np.asarray(x[i:i + 8192])
    lab = np.asarray(y[i:i + 8192])
    ok = np.isfinite(c).all(axis=1) & (lab >= 0) & (lab < 10) & (lab == np.floor(lab))
    bad_rows.extend((np.nonzero(~ok)[0] + i).tolist())
    g = c[ok].astype(np.float64)
    lo = np.minimum(lo, g.min(axis=0)); hi = np.maximum(hi, g.max(axis=0))
    s += g.sum(axis=0); ss += (g * g).sum(axis=0); n += len(g)
mean = s / n
std = np.sqrt(np.maximum(ss / n - mean * mean, 0))
print(len(bad_rows), bad_rows[:5], lo.min(), hi.max(), mean.mean(), std.mean())
