#ifndef CDATASAN_KERNELS_H
#define CDATASAN_KERNELS_H

// The hot loops of datasan's checks and normalization, in C so that the compiler vectorizes them
// (lane-wise accumulators, no reassociation needed) and builds AVX2 / AVX-512 clones chosen at
// run time. Every function reads a contiguous block of one feature group of one sample.

#include <stddef.h>
#include <stdint.h>

/// Moments of a block: min, max, mean and M2 (sum of squared deviations from the mean).
/// `finite` is 0 when the sums cannot be trusted: the block holds a NaN or an Inf, or finite values
/// whose squares overflow or whose range is below DATASAN_MIN_SAFE_RANGE_* (the caller tells these
/// apart and measures the finite ones in scaled form).
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
/// The same moments by the portable loop (what datasan_moments_u8 does on a CPU without AVX2).
void datasan_moments_u8_portable(const uint8_t *values, size_t count, datasan_moments *out);
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
/// A column whose values are too large or too small to square in a double keeps its sums in units of
/// 2^exponent (d = x * 2^-exponent - shift * 2^-exponent); the kernels below work on exponent 0 only.
typedef struct {
  uint64_t n;
  double shift;
  double s1;
  double s2;
  double min;
  double max;
  uint64_t extreme_count;
  double extreme_max;
  int32_t exponent;
  /// Set by the kernels on a column they left unchanged, for the caller to add in scaled form.
  int32_t skipped;
} datasan_column_moments;

/// Adds `rows` rows of `columns` values (row-major, values[r * columns + c]) to moments[0..<columns],
/// each column in row order: the same sums as adding the values one by one. Every value must be
/// finite (the caller has checked the rows). A column with a nonzero exponent, or whose sums would
/// go non-finite or whose range is so small that its squares lose precision, is left unchanged and
/// marked `skipped`; returns how many were.
size_t datasan_column_moments_f32(const float *values, size_t rows, size_t columns, double max_abs,
                                  datasan_column_moments *moments);
size_t datasan_column_moments_f64(const double *values, size_t rows, size_t columns, double max_abs,
                                  datasan_column_moments *moments);

/// The smallest nonzero range (max - min) of a block whose double squares keep their precision
/// (d*d well above the subnormals); a block with a smaller one is measured in scaled form.
#define DATASAN_MIN_SAFE_RANGE_F64 0x1p-500
/// The same for the float32 moments kernel, which sums squares in float lanes.
#define DATASAN_MIN_SAFE_RANGE_F32 0x1p-40

/// snprintf of one double (`format` has one conversion, e.g. "%.6g"): String(format:) without
/// Swift's CVarArg boxing, whose two dynamic casts cost 0.9 M instructions the first time a
/// process formats a number (each a linear search of the binary's ~5,800 conformance records).
int datasan_format_double(char *buffer, size_t size, const char *format, double value);

#endif
