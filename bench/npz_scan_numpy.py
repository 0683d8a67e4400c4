# The numpy reference for `datasan scan xc.npz --dataset x --labels y --num-classes 10` (a 256 MiB
# np.savez_compressed of the first 65536 rows of bench/npy_scan_numpy.py's data): numpy inflates the member whole.
import sys
import numpy as np
z = np.load(sys.argv[1])
x, y = z["x"], z["y"]  # an .npz member cannot be memory-mapped: numpy inflates it whole
d = x.shape[1]
lo = np.full(d, np.inf); hi = np.full(d, -np.inf); s = np.zeros(d); ss = np.zeros(d); n = 0; bad = 0
for i in range(0, len(x), 8192):
    c = x[i:i + 8192]; lab = y[i:i + 8192]
    ok = np.isfinite(c).all(axis=1) & (lab >= 0) & (lab < 10)
    bad += int((~ok).sum())
    g = c[ok].astype(np.float64)
    lo = np.minimum(lo, g.min(axis=0)); hi = np.maximum(hi, g.max(axis=0)); s += g.sum(axis=0); ss += (g * g).sum(axis=0); n += len(g)
print(bad, lo.min(), hi.max())
