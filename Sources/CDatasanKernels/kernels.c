#include "CDatasanKernels.h"

#include <math.h>

// Compile each kernel for AVX-512, AVX2 and the baseline; the loader picks the best one the CPU has.
#if defined(__x86_64__) && defined(__clang__) && !defined(DATASAN_NO_CLONES)
#define DATASAN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DATASAN_CLONES
#endif

#define LANES 16
// Values summed in float lanes before the partial sums go to double (keeps float rounding small).
#define FLOAT_RUN 4096

DATASAN_CLONES
void datasan_moments_f32(const float *p, size_t n, datasan_moments *out) {
  out->min = INFINITY;
  out->max = -INFINITY;
  out->mean = 0;
  out->m2 = 0;
  out->finite = 1;
  if (n == 0) return;
  float lo[LANES], hi[LANES];
  for (int j = 0; j < LANES; j++) { lo[j] = INFINITY; hi[j] = -INFINITY; }
  double total = 0;
  size_t i = 0;
  while (i < n) {
    size_t end = n - i > FLOAT_RUN ? i + FLOAT_RUN : n;
    float s[LANES] = {0};
    for (; i + LANES <= end; i += LANES) {
      for (int j = 0; j < LANES; j++) {
        float x = p[i + j];
        s[j] += x;
        lo[j] = x < lo[j] ? x : lo[j];
        hi[j] = x > hi[j] ? x : hi[j];
      }
    }
    float run = 0;
    for (; i < end; i++) {
      float x = p[i];
      run += x;
      lo[0] = x < lo[0] ? x : lo[0];
      hi[0] = x > hi[0] ? x : hi[0];
    }
    for (int j = 0; j < LANES; j++) run += s[j];
    total += run;
  }
  if (!isfinite(total)) { out->finite = 0; return; }
  float mn = lo[0], mx = hi[0];
  for (int j = 1; j < LANES; j++) { mn = lo[j] < mn ? lo[j] : mn; mx = hi[j] > mx ? hi[j] : mx; }
  double mean = total / (double)n;
  float m = (float)mean;
  double m2 = 0;
  i = 0;
  while (i < n) {
    size_t end = n - i > FLOAT_RUN ? i + FLOAT_RUN : n;
    float q[LANES] = {0};
    for (; i + LANES <= end; i += LANES) {
      for (int j = 0; j < LANES; j++) {
        float d = p[i + j] - m;
        q[j] += d * d;
      }
    }
    float run = 0;
    for (; i < end; i++) { float d = p[i] - m; run += d * d; }
    for (int j = 0; j < LANES; j++) run += q[j];
    m2 += run;
  }
  // The deviations were taken from the float mean m; correct M2 to the exact mean.
  double shift = (double)m - mean;
  m2 -= (double)n * shift * shift;
  out->min = mn;
  out->max = mx;
  out->mean = mean;
  out->m2 = m2 > 0 ? m2 : 0;
}

#define DLANES 8

DATASAN_CLONES
void datasan_moments_f64(const double *p, size_t n, datasan_moments *out) {
  out->min = INFINITY;
  out->max = -INFINITY;
  out->mean = 0;
  out->m2 = 0;
  out->finite = 1;
  if (n == 0) return;
  double lo[DLANES], hi[DLANES], s[DLANES] = {0};
  for (int j = 0; j < DLANES; j++) { lo[j] = INFINITY; hi[j] = -INFINITY; }
  size_t i = 0;
  for (; i + DLANES <= n; i += DLANES) {
    for (int j = 0; j < DLANES; j++) {
      double x = p[i + j];
      s[j] += x;
      lo[j] = x < lo[j] ? x : lo[j];
      hi[j] = x > hi[j] ? x : hi[j];
    }
  }
  double total = 0;
  for (; i < n; i++) {
    double x = p[i];
    total += x;
    lo[0] = x < lo[0] ? x : lo[0];
    hi[0] = x > hi[0] ? x : hi[0];
  }
  for (int j = 0; j < DLANES; j++) total += s[j];
  if (!isfinite(total)) { out->finite = 0; return; }
  double mn = lo[0], mx = hi[0];
  for (int j = 1; j < DLANES; j++) { mn = lo[j] < mn ? lo[j] : mn; mx = hi[j] > mx ? hi[j] : mx; }
  double mean = total / (double)n;
  double q[DLANES] = {0};
  for (i = 0; i + DLANES <= n; i += DLANES) {
    for (int j = 0; j < DLANES; j++) {
      double d = p[i + j] - mean;
      q[j] += d * d;
    }
  }
  double m2 = 0;
  for (; i < n; i++) { double d = p[i] - mean; m2 += d * d; }
  for (int j = 0; j < DLANES; j++) m2 += q[j];
  out->min = mn;
  out->max = mx;
  out->mean = mean;
  out->m2 = m2;
}

// 8- and 16-bit integers: exact sums in 64-bit integers; M2 = sum(x^2) - sum(x)^2 / n.
#define SMALL_INT_MOMENTS(NAME, T, ACC, SQ)                                                    \
  DATASAN_CLONES                                                                           \
  void NAME(const T *p, size_t n, datasan_moments *out) {                                  \
    out->finite = 1;                                                                       \
    out->min = INFINITY;                                                                   \
    out->max = -INFINITY;                                                                  \
    out->mean = 0;                                                                         \
    out->m2 = 0;                                                                           \
    if (n == 0) return;                                                                    \
    T lo[LANES], hi[LANES];                                                                \
    for (int j = 0; j < LANES; j++) { lo[j] = p[0]; hi[j] = p[0]; }                        \
    int64_t sum = 0;                                                                       \
    uint64_t squares = 0;                                                                  \
    size_t i = 0;                                                                          \
    while (i < n) {                                                                        \
      size_t end = n - i > 1024 ? i + 1024 : n;                                            \
      ACC s[LANES] = {0};                                                                  \
      SQ q[LANES] = {0};                                                                   \
      for (; i + LANES <= end; i += LANES) {                                               \
        for (int j = 0; j < LANES; j++) {                                                  \
          T x = p[i + j];                                                                  \
          s[j] += x;                                                                       \
          q[j] += (SQ)((int64_t)x * (int64_t)x);                                           \
          lo[j] = x < lo[j] ? x : lo[j];                                                   \
          hi[j] = x > hi[j] ? x : hi[j];                                                   \
        }                                                                                  \
      }                                                                                    \
      for (; i < end; i++) {                                                               \
        T x = p[i];                                                                        \
        sum += x;                                                                          \
        squares += (uint64_t)((int64_t)x * (int64_t)x);                                    \
        lo[0] = x < lo[0] ? x : lo[0];                                                     \
        hi[0] = x > hi[0] ? x : hi[0];                                                     \
      }                                                                                    \
      for (int j = 0; j < LANES; j++) { sum += s[j]; squares += q[j]; }                    \
    }                                                                                      \
    T mn = lo[0], mx = hi[0];                                                              \
    for (int j = 1; j < LANES; j++) { mn = lo[j] < mn ? lo[j] : mn; mx = hi[j] > mx ? hi[j] : mx; } \
    double s = (double)sum;                                                                \
    double m2 = (double)squares - s * s / (double)n;                                       \
    out->min = mn;                                                                         \
    out->max = mx;                                                                         \
    out->mean = s / (double)n;                                                             \
    out->m2 = m2 > 0 ? m2 : 0;                                                             \
  }

SMALL_INT_MOMENTS(datasan_moments_u8, uint8_t, int32_t, uint32_t)
SMALL_INT_MOMENTS(datasan_moments_i8, int8_t, int32_t, uint32_t)
SMALL_INT_MOMENTS(datasan_moments_u16, uint16_t, int64_t, uint64_t)
SMALL_INT_MOMENTS(datasan_moments_i16, int16_t, int64_t, uint64_t)

DATASAN_CLONES
int datasan_all_finite_f32(const float *p, size_t n) {
  float probe[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int j = 0; j < LANES; j++) probe[j] += p[i + j] * 0.0f;
  float rest = 0;
  for (; i < n; i++) rest += p[i] * 0.0f;
  for (int j = 0; j < LANES; j++) rest += probe[j];
  return rest == 0.0f;
}

DATASAN_CLONES
int datasan_all_finite_f64(const double *p, size_t n) {
  double probe[DLANES] = {0};
  size_t i = 0;
  for (; i + DLANES <= n; i += DLANES)
    for (int j = 0; j < DLANES; j++) probe[j] += p[i + j] * 0.0;
  double rest = 0;
  for (; i < n; i++) rest += p[i] * 0.0;
  for (int j = 0; j < DLANES; j++) rest += probe[j];
  return rest == 0.0;
}

#define AFFINE(NAME, T)                                                                     \
  DATASAN_CLONES                                                                            \
  void NAME(const T *p, size_t n, double scale, double offset, float *out) {                \
    for (size_t i = 0; i < n; i++) out[i] = (float)((double)p[i] * scale + offset);         \
  }

AFFINE(datasan_affine_f32, float)
AFFINE(datasan_affine_f64, double)
AFFINE(datasan_affine_u8, uint8_t)
AFFINE(datasan_affine_u16, uint16_t)
