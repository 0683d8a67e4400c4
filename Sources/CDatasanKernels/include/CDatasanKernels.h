#ifndef CDATASAN_KERNELS_H
#define CDATASAN_KERNELS_H

// The hot loops of datasan's checks and normalization, in C so that the compiler vectorizes them
// (lane-wise accumulators, no reassociation needed) and builds AVX2 / AVX-512 clones chosen at
// run time. Every function reads a contiguous block of one feature group of one sample.

#include <stddef.h>
#include <stdint.h>

/// Moments of a block: min, max, mean and M2 (sum of squared deviations from the mean).
/// `finite` is 0 when the sum is not finite: the block may hold a NaN or an Inf.
typedef struct {
  double min;
  double max;
  double mean;
  double m2;
  int finite;
} datasan_moments;

void datasan_moments_f32(const float *values, size_t count, datasan_moments *out);
void datasan_moments_f64(const double *values, size_t count, datasan_moments *out);
void datasan_moments_u8(const uint8_t *values, size_t count, datasan_moments *out);
void datasan_moments_i8(const int8_t *values, size_t count, datasan_moments *out);
void datasan_moments_u16(const uint16_t *values, size_t count, datasan_moments *out);
void datasan_moments_i16(const int16_t *values, size_t count, datasan_moments *out);

/// Whether every value is finite (no NaN, no Inf).
int datasan_all_finite_f32(const float *values, size_t count);
int datasan_all_finite_f64(const double *values, size_t count);

/// out[i] = (float)(values[i] * scale + offset), computed in double.
void datasan_affine_f32(const float *values, size_t count, double scale, double offset, float *out);
void datasan_affine_f64(const double *values, size_t count, double scale, double offset, float *out);
void datasan_affine_u8(const uint8_t *values, size_t count, double scale, double offset, float *out);
void datasan_affine_u16(const uint16_t *values, size_t count, double scale, double offset, float *out);

/// Running moments of one column of a row-major (interleaved) block: the sums of d = x - shift and
/// of d*d (shift: the column's first value), min, max, and the values with |x| >= max_abs.
typedef struct {
  uint64_t n;
  double shift;
  double s1;
  double s2;
  double min;
  double max;
  uint64_t extreme_count;
  double extreme_max;
} datasan_column_moments;

/// Adds `rows` rows of `columns` values (row-major, values[r * columns + c]) to moments[0..<columns],
/// each column in row order: the same sums as adding the values one by one. Every value must be
/// finite (the caller has checked the rows).
void datasan_column_moments_f32(const float *values, size_t rows, size_t columns, double max_abs,
                                datasan_column_moments *moments);
void datasan_column_moments_f64(const double *values, size_t rows, size_t columns, double max_abs,
                                datasan_column_moments *moments);

#endif
