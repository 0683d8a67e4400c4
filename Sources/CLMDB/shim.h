#ifndef DATASAN_CLMDB_SHIM_H
#define DATASAN_CLMDB_SHIM_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

/* liblmdb. Reading an untrusted environment goes through the fault guard of the
 * CDatasanLMDBGuard target, which owns every liblmdb call that touches the map while reading. */

/*
 * The scan's fast path for raw Datum records: one pass over the value in the map, under the guard.
 *
 * Accepts exactly the canonical raw form of the Datum rule (written once, in
 * Sources/DatasanLMDB/Datum.swift, rule 8; the differential test DatumRuleTests holds this parser
 * and the Swift one to it): fields channels (1), height (2), width (3), data (4), label (5),
 * encoded (7) = false, each at most once, in any order, with one-byte tags; channels/height/width
 * (int32: the low 32 bits of their varints) equal to the expected ones and data exactly c*h*w bytes.
 * Then it stores the label (int32, the low 32 bits of its varint, as protobuf does; 0 when absent)
 * and where `data` starts, and returns 1.
 *
 * Anything else (float_data, an encoded image, other dimensions, an unknown or repeated field, a
 * malformed message) returns 0: the caller then copies the value out and decodes it with the full
 * decoder, which alone explains what is wrong. It may read the map: call it under the guard
 * (datasan_mdb_guarded_raw_datums of CDatasanLMDBGuard does).
 */
static inline int datasan_datum_varint(const uint8_t *p, size_t n, size_t *at, uint64_t *value) {
  uint64_t result = 0;
  for (unsigned shift = 0, i = 0; i < 10; i++, shift += 7) {
    if (*at >= n) return 0;
    uint8_t byte = p[(*at)++];
    if (i == 9 && byte > 1) return 0;
    result |= (uint64_t)(byte & 0x7F) << shift;
    if (byte < 0x80) {
      *value = result;
      return 1;
    }
  }
  return 0;
}

static inline int datasan_datum_parse_raw(
    const uint8_t *p, size_t n, uint64_t channels, uint64_t height, uint64_t width, int32_t *label,
    size_t *data_offset) {
  size_t at = 0;
  unsigned seen = 0;
  uint64_t dims[4] = {0, 0, 0, 0};
  int32_t lab = 0;
  size_t data_at = 0, data_length = 0;
  while (at < n) {
    uint8_t tag = p[at++];
    unsigned field = tag >> 3, wire = tag & 7;
    if (field < 1 || field > 7 || field == 6 || (seen & (1u << field))) return 0;
    seen |= 1u << field;
    uint64_t value;
    if (field == 4) {
      if (wire != 2 || !datasan_datum_varint(p, n, &at, &value) || value > n - at) return 0;
      data_at = at;
      data_length = (size_t)value;
      at += data_length;
      continue;
    }
    if (wire != 0 || !datasan_datum_varint(p, n, &at, &value)) return 0;
    if (field <= 3) {
      int32_t dim = (int32_t)(uint32_t)value; /* int32: the low 32 bits (rule 3) */
      if (dim < 0) return 0;
      dims[field] = (uint64_t)dim;
    } else if (field == 5) {
      lab = (int32_t)(uint32_t)value;
    } else if (value != 0) { /* encoded = true */
      return 0;
    }
  }
  if (!(seen & (1u << 4)) || dims[1] != channels || dims[2] != height || dims[3] != width) return 0;
  /* c*h*w must not wrap around: 2^30 x 2^30 x 16 with empty data is not a raw image. */
  uint64_t plane, expected;
  if (__builtin_mul_overflow(height, width, &plane) || __builtin_mul_overflow(channels, plane, &expected)) return 0;
  if (data_length != expected) return 0;
  *label = lab;
  *data_offset = data_at;
  return 1;
}

#endif
