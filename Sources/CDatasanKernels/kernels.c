#include "CDatasanKernels.h"

#include <math.h>
#include <stdio.h>

// Compile each kernel for AVX-512, AVX2 and the baseline; the loader picks the best one the CPU has.
// Not under ThreadSanitizer: the loader runs the clones' resolvers before the TSan runtime is set up,
// and their instrumented entry (__tsan_func_entry) crashes every program at start.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DATASAN_NO_CLONES
#endif
#endif
#if defined(__x86_64__) && defined(__clang__) && !defined(DATASAN_NO_CLONES)
#define DATASAN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DATASAN_CLONES
#endif

/// The moments of no values (also the start of every kernel): finite, min +Inf, max -Inf.
static inline void datasan_moments_clear(datasan_moments *out) {
  out->min = INFINITY;
  out->max = -INFINITY;
  out->mean = 0;
  out->m2 = 0;
  out->finite = 1;
}

/// The moments of n integers from their exact sum and sum of squares: M2 = sum(x^2) - sum(x)^2 / n.
static inline void datasan_moments_from_sums(datasan_moments *out, double min, double max, int64_t sum,
                                             uint64_t squares, size_t n) {
  double s = (double)sum;
  double m2 = (double)squares - s * s / (double)n;
  out->min = min;
  out->max = max;
  out->mean = s / (double)n;
  out->m2 = m2 > 0 ? m2 : 0;
}

#define LANES 16
// Values summed in float lanes before the partial sums go to double (keeps float rounding small).
#define FLOAT_RUN 4096

// One pass over the block: sums of d = x - K and of d*d, K being the first value (a shift that
// keeps the sum of squares accurate when the mean is large against the spread), in float lanes over
// runs of FLOAT_RUN values, then in double. mean = K + S1/n, M2 = S2 - S1^2/n. Squares that overflow,
// and a range so small that the squares lose precision, make `finite` 0.
DATASAN_CLONES
void datasan_moments_f32(const float *p, size_t n, datasan_moments *out) {
  datasan_moments_clear(out);
  if (n == 0) return;
  const float k = isfinite(p[0]) ? p[0] : 0.0f;
  float lo[LANES], hi[LANES];
  for (int j = 0; j < LANES; j++) { lo[j] = INFINITY; hi[j] = -INFINITY; }
  double s1 = 0, s2 = 0;
  size_t i = 0;
  while (i < n) {
    size_t end = n - i > FLOAT_RUN ? i + FLOAT_RUN : n;
    float a[LANES] = {0}, b[LANES] = {0};
    for (; i + LANES <= end; i += LANES) {
      for (int j = 0; j < LANES; j++) {
        float x = p[i + j];
        float d = x - k;
        a[j] += d;
        b[j] += d * d;
        lo[j] = x < lo[j] ? x : lo[j];
        hi[j] = x > hi[j] ? x : hi[j];
      }
    }
    float ra = 0, rb = 0;
    for (; i < end; i++) {
      float x = p[i];
      float d = x - k;
      ra += d;
      rb += d * d;
      lo[0] = x < lo[0] ? x : lo[0];
      hi[0] = x > hi[0] ? x : hi[0];
    }
    for (int j = 0; j < LANES; j++) { ra += a[j]; rb += b[j]; }
    s1 += ra;
    s2 += rb;
  }
  if (!isfinite(s1) || !isfinite(s2)) { out->finite = 0; return; }
  float mn = lo[0], mx = hi[0];
  for (int j = 1; j < LANES; j++) { mn = lo[j] < mn ? lo[j] : mn; mx = hi[j] > mx ? hi[j] : mx; }
  if ((double)mx - (double)mn < DATASAN_MIN_SAFE_RANGE_F32 && mx != mn) { out->finite = 0; return; }
  double m2 = s2 - s1 / (double)n * s1;  // <= s2 (Cauchy-Schwarz): finite where s2 is
  out->min = mn;
  out->max = mx;
  out->mean = (double)k + s1 / (double)n;
  out->m2 = m2 > 0 ? m2 : 0;
}

#define DLANES 8

DATASAN_CLONES
void datasan_moments_f64(const double *p, size_t n, datasan_moments *out) {
  datasan_moments_clear(out);
  if (n == 0) return;
  const double k = isfinite(p[0]) ? p[0] : 0.0;
  double lo[DLANES], hi[DLANES], a[DLANES] = {0}, b[DLANES] = {0};
  for (int j = 0; j < DLANES; j++) { lo[j] = INFINITY; hi[j] = -INFINITY; }
  size_t i = 0;
  for (; i + DLANES <= n; i += DLANES) {
    for (int j = 0; j < DLANES; j++) {
      double x = p[i + j];
      double d = x - k;
      a[j] += d;
      b[j] += d * d;
      lo[j] = x < lo[j] ? x : lo[j];
      hi[j] = x > hi[j] ? x : hi[j];
    }
  }
  double s1 = 0, s2 = 0;
  for (; i < n; i++) {
    double x = p[i];
    double d = x - k;
    s1 += d;
    s2 += d * d;
    lo[0] = x < lo[0] ? x : lo[0];
    hi[0] = x > hi[0] ? x : hi[0];
  }
  for (int j = 0; j < DLANES; j++) { s1 += a[j]; s2 += b[j]; }
  if (!isfinite(s1) || !isfinite(s2)) { out->finite = 0; return; }
  double mn = lo[0], mx = hi[0];
  for (int j = 1; j < DLANES; j++) { mn = lo[j] < mn ? lo[j] : mn; mx = hi[j] > mx ? hi[j] : mx; }
  if ((double)mx - (double)mn < DATASAN_MIN_SAFE_RANGE_F64 && mx != mn) { out->finite = 0; return; }
  double m2 = s2 - s1 / (double)n * s1;  // <= s2 (Cauchy-Schwarz): finite where s2 is
  out->min = mn;
  out->max = mx;
  out->mean = k + s1 / (double)n;
  out->m2 = m2 > 0 ? m2 : 0;
}

// 8- and 16-bit integers: exact sums in 64-bit integers; M2 = sum(x^2) - sum(x)^2 / n.
#define SMALL_INT_MOMENTS(NAME, T, ACC, SQ)                                                    \
  DATASAN_CLONES                                                                           \
  void NAME(const T *p, size_t n, datasan_moments *out) {                                  \
    datasan_moments_clear(out);                                                                \
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
    datasan_moments_from_sums(out, mn, mx, sum, squares, n);                               \
  }

// 8-bit values: 32-bit sums over runs of 65536 values (65536 * 255^2 < 2^32), which the compiler
// vectorizes as integer reductions (exact in any order); about 25% faster than the lane form above.
#define BYTE_MOMENTS(NAME, T, SUM)                                                               \
  DATASAN_CLONES                                                                               \
  void NAME(const T *p, size_t n, datasan_moments *out) {                                      \
    datasan_moments_clear(out);                                                                \
    if (n == 0) return;                                                                        \
    int64_t sum = 0;                                                                           \
    uint64_t squares = 0;                                                                      \
    T lo = p[0], hi = p[0];                                                                    \
    size_t i = 0;                                                                              \
    while (i < n) {                                                                            \
      size_t end = n - i > 65536 ? i + 65536 : n;                                              \
      SUM s = 0;                                                                               \
      uint32_t q = 0;                                                                          \
      T l = lo, h = hi;                                                                        \
      for (; i < end; i++) {                                                                   \
        SUM x = p[i];                                                                          \
        s += x;                                                                                \
        q += (uint32_t)(x * x);                                                                \
        l = p[i] < l ? p[i] : l;                                                               \
        h = p[i] > h ? p[i] : h;                                                               \
      }                                                                                        \
      sum += s;                                                                                \
      squares += q;                                                                            \
      lo = l;                                                                                  \
      hi = h;                                                                                  \
    }                                                                                          \
    datasan_moments_from_sums(out, lo, hi, sum, squares, n);                                   \
  }

BYTE_MOMENTS(datasan_moments_u8_portable, uint8_t, uint32_t)

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

// Unsigned bytes with AVX2, 32 a step: the sum by `vpsadbw` (four 64-bit lanes), the squares by
// widening to 16 bits and `vpmaddwd` (eight 32-bit lanes, four squares each a step: 8192 steps stay
// below 2^32 before they go to 64 bits), min and max byte-wise. Exact integer sums, so the result
// equals the portable loop's; 2 to 2.5x its speed on 1,024-byte planes (the LMDB raw scan measures
// every channel of every record with it).
__attribute__((target("avx2"))) static void moments_u8_avx2(const uint8_t *p, size_t n, datasan_moments *out) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i lo = _mm256_set1_epi8((char)0xFF), hi = zero, sums = zero, squares64 = zero;
  size_t i = 0;
  while (i + 32 <= n) {
    size_t steps = (n - i) / 32;
    if (steps > 8192) steps = 8192;
    __m256i squares = zero;
    for (size_t k = 0; k < steps; k++, i += 32) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(p + i));
      sums = _mm256_add_epi64(sums, _mm256_sad_epu8(v, zero));
      __m256i a = _mm256_unpacklo_epi8(v, zero), b = _mm256_unpackhi_epi8(v, zero);
      squares = _mm256_add_epi32(squares, _mm256_add_epi32(_mm256_madd_epi16(a, a), _mm256_madd_epi16(b, b)));
      lo = _mm256_min_epu8(lo, v);
      hi = _mm256_max_epu8(hi, v);
    }
    squares64 = _mm256_add_epi64(squares64, _mm256_add_epi64(_mm256_unpacklo_epi32(squares, zero),
                                                             _mm256_unpackhi_epi32(squares, zero)));
  }
  uint64_t s[4], q[4];
  uint8_t l[32], h[32];
  _mm256_storeu_si256((__m256i *)s, sums);
  _mm256_storeu_si256((__m256i *)q, squares64);
  _mm256_storeu_si256((__m256i *)l, lo);
  _mm256_storeu_si256((__m256i *)h, hi);
  uint64_t sum = s[0] + s[1] + s[2] + s[3], sq = q[0] + q[1] + q[2] + q[3];
  uint8_t mn = 255, mx = 0;
  for (int j = 0; j < 32; j++) {
    mn = l[j] < mn ? l[j] : mn;
    mx = h[j] > mx ? h[j] : mx;
  }
  for (; i < n; i++) {
    uint32_t x = p[i];
    sum += x;
    sq += x * x;
    mn = p[i] < mn ? p[i] : mn;
    mx = p[i] > mx ? p[i] : mx;
  }
  datasan_moments_from_sums(out, mn, mx, (int64_t)sum, sq, n);
}
#endif

void datasan_moments_u8(const uint8_t *p, size_t n, datasan_moments *out) {
#if defined(__x86_64__) && defined(__clang__)
  if (n > 0 && __builtin_cpu_supports("avx2")) {
    datasan_moments_clear(out);
    moments_u8_avx2(p, n, out);
    return;
  }
#endif
  datasan_moments_u8_portable(p, n, out);
}
BYTE_MOMENTS(datasan_moments_i8, int8_t, int32_t)
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

// Columns of a row-major block, in chunks of up to COLUMN_CHUNK columns held in local arrays: the
// loop over a row's columns vectorizes (each column has its own accumulators, so no sum is
// reordered: the results equal adding the values one at a time). A column whose sums went
// non-finite or whose range is too small for its squares is not written back but marked skipped,
// as is a column already in scaled form (exponent != 0): the caller adds those rows in scaled form.
#define COLUMN_CHUNK 32
#define COLUMN_MOMENTS(NAME, T)                                                                \
  DATASAN_CLONES                                                                               \
  size_t NAME(const T *p, size_t rows, size_t columns, double max_abs, datasan_column_moments *m) { \
    if (rows == 0) return 0;                                                                   \
    size_t skipped = 0;                                                                        \
    for (size_t c0 = 0; c0 < columns; c0 += COLUMN_CHUNK) {                                    \
      size_t w = columns - c0 < COLUMN_CHUNK ? columns - c0 : COLUMN_CHUNK;                    \
      double k[COLUMN_CHUNK], s1[COLUMN_CHUNK], s2[COLUMN_CHUNK], lo[COLUMN_CHUNK], hi[COLUMN_CHUNK]; \
      double emax[COLUMN_CHUNK];                                                               \
      uint64_t ecount[COLUMN_CHUNK];                                                           \
      for (size_t j = 0; j < w; j++) {                                                         \
        datasan_column_moments *c = &m[c0 + j];                                                \
        if (c->n == 0) c->shift = (double)p[c0 + j];                                           \
        k[j] = c->shift; s1[j] = c->s1; s2[j] = c->s2; lo[j] = c->min; hi[j] = c->max;         \
        emax[j] = c->extreme_max; ecount[j] = c->extreme_count;                                \
      }                                                                                        \
      for (size_t r = 0; r < rows; r++) {                                                      \
        const T *row = p + r * columns + c0;                                                   \
        for (size_t j = 0; j < w; j++) {                                                       \
          double x = (double)row[j];                                                           \
          double d = x - k[j];                                                                 \
          s1[j] += d;                                                                          \
          s2[j] += d * d;                                                                      \
          lo[j] = x < lo[j] ? x : lo[j];                                                       \
          hi[j] = x > hi[j] ? x : hi[j];                                                       \
          double a = fabs(x);                                                                  \
          int extreme = a >= max_abs;                                                          \
          ecount[j] += (uint64_t)extreme;                                                      \
          emax[j] = extreme && a > emax[j] ? a : emax[j];                                      \
        }                                                                                      \
      }                                                                                        \
      for (size_t j = 0; j < w; j++) {                                                         \
        datasan_column_moments *c = &m[c0 + j];                                                \
        double range = hi[j] - lo[j];                                                          \
        if (c->exponent != 0 || !isfinite(s1[j]) || !isfinite(s2[j])                           \
            || (range != 0 && range < DATASAN_MIN_SAFE_RANGE_F64)) {                           \
          c->skipped = 1;                                                                      \
          skipped++;                                                                           \
          continue;                                                                            \
        }                                                                                      \
        c->n += rows; c->s1 = s1[j]; c->s2 = s2[j]; c->min = lo[j]; c->max = hi[j];            \
        c->extreme_max = emax[j]; c->extreme_count = ecount[j];                                \
      }                                                                                        \
    }                                                                                          \
    return skipped;                                                                            \
  }

COLUMN_MOMENTS(datasan_column_moments_f32, float)
COLUMN_MOMENTS(datasan_column_moments_f64, double)

int datasan_format_double(char *buffer, size_t size, const char *format, double value) {
  return snprintf(buffer, size, format, value);
}
