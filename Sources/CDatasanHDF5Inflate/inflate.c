// Read side of HDF5's fletcher32, deflate and shuffle filters, for chunks read raw with
// H5Dread_chunk. See include/CDatasanHDF5Inflate.h.

#include "CDatasanHDF5Inflate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct datasan_chunk_decoder {
  z_stream stream;
  int stream_ready;
  // libdeflate's whole-buffer decompressor: 3x zlib's inflate on HDF5 chunks; zlib stays the fallback.
  struct libdeflate_decompressor *fast;
  unsigned char *scratch;
  size_t scratch_bytes;
};

datasan_chunk_decoder *datasan_chunk_decoder_new(void) {
  datasan_chunk_decoder *decoder = calloc(1, sizeof *decoder);
  return decoder;
}

void datasan_chunk_decoder_free(datasan_chunk_decoder *decoder) {
  if (!decoder) return;
  if (decoder->stream_ready) inflateEnd(&decoder->stream);
  if (decoder->fast) libdeflate_free_decompressor(decoder->fast);
  free(decoder->scratch);
  free(decoder);
}

static unsigned char *scratch(datasan_chunk_decoder *decoder, size_t bytes) {
  if (decoder->scratch_bytes >= bytes) return decoder->scratch;
  free(decoder->scratch);
  decoder->scratch = NULL;
  decoder->scratch_bytes = 0;
  void *memory = NULL;
  if (posix_memalign(&memory, 64, bytes ? bytes : 1) != 0) return NULL;
  decoder->scratch = memory;
  decoder->scratch_bytes = bytes;
  return decoder->scratch;
}

// MARK: fletcher32

uint32_t datasan_fletcher32(const void *data, size_t length) {
  // H5_checksum_fletcher32: big-endian 16-bit words, sums folded every 360 words.
  const unsigned char *p = data;
  size_t words = length / 2;
  uint32_t sum1 = 0, sum2 = 0;
  while (words) {
    size_t n = words > 360 ? 360 : words;
    words -= n;
    do {
      sum1 += (uint32_t)(((uint16_t)p[0]) << 8) | ((uint16_t)p[1]);
      p += 2;
      sum2 += sum1;
    } while (--n);
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  if (length % 2) {
    sum1 += (uint32_t)(((uint16_t)*p) << 8);
    sum2 += sum1;
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  }
  sum1 = (sum1 & 0xffff) + (sum1 >> 16);
  sum2 = (sum2 & 0xffff) + (sum2 >> 16);
  return (sum2 << 16) | sum1;
}

// Whether the last 4 bytes of `stored` hold the checksum of the others, as H5Z_filter_fletcher32
// checks it: the stored value is little-endian, and the byte-swapped-halves value written by
// libhdf5 before 1.6.3 is accepted too.
static int fletcher32_matches(const unsigned char *stored, size_t bytes) {
  const unsigned char *tail = stored + bytes;
  uint32_t expected = (uint32_t)tail[0] | ((uint32_t)tail[1] << 8) | ((uint32_t)tail[2] << 16) | ((uint32_t)tail[3] << 24);
  uint32_t sum = datasan_fletcher32(stored, bytes);
  uint32_t reversed = ((sum & 0x00ff00ffu) << 8) | ((sum & 0xff00ff00u) >> 8);
  return expected == sum || expected == reversed;
}

// MARK: shuffle

void datasan_unshuffle(const void *in_, void *out_, size_t element_size, size_t total, size_t count) {
  const unsigned char *in = in_;
  unsigned char *out = out_;
  if (count > total) count = total;
  if (element_size <= 1 || total <= 1) {
    memcpy(out, in, count * (element_size ? element_size : 1));
    return;
  }
  size_t i = 0;
#if defined(__SSE2__)
  if (element_size == 2) {
    const unsigned char *p0 = in, *p1 = in + total;
    for (; i + 16 <= count; i += 16) {
      __m128i a = _mm_loadu_si128((const __m128i *)(p0 + i)), b = _mm_loadu_si128((const __m128i *)(p1 + i));
      _mm_storeu_si128((__m128i *)(out + 2 * i), _mm_unpacklo_epi8(a, b));
      _mm_storeu_si128((__m128i *)(out + 2 * i + 16), _mm_unpackhi_epi8(a, b));
    }
  } else if (element_size == 4) {
    const unsigned char *p0 = in, *p1 = in + total, *p2 = in + 2 * total, *p3 = in + 3 * total;
    for (; i + 16 <= count; i += 16) {
      __m128i a = _mm_loadu_si128((const __m128i *)(p0 + i)), b = _mm_loadu_si128((const __m128i *)(p1 + i));
      __m128i c = _mm_loadu_si128((const __m128i *)(p2 + i)), d = _mm_loadu_si128((const __m128i *)(p3 + i));
      __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
      __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
      unsigned char *o = out + 4 * i;
      _mm_storeu_si128((__m128i *)(o), _mm_unpacklo_epi16(ab0, cd0));
      _mm_storeu_si128((__m128i *)(o + 16), _mm_unpackhi_epi16(ab0, cd0));
      _mm_storeu_si128((__m128i *)(o + 32), _mm_unpacklo_epi16(ab1, cd1));
      _mm_storeu_si128((__m128i *)(o + 48), _mm_unpackhi_epi16(ab1, cd1));
    }
  } else if (element_size == 8) {
    const unsigned char *p[8];
    for (int k = 0; k < 8; k++) p[k] = in + (size_t)k * total;
    for (; i + 16 <= count; i += 16) {
      __m128i b[8];
      for (int k = 0; k < 8; k++) b[k] = _mm_loadu_si128((const __m128i *)(p[k] + i));
      // Bytes 0..7 of elements i..i+15: pair bytes, then pairs of pairs, then quads.
      __m128i p01l = _mm_unpacklo_epi8(b[0], b[1]), p01h = _mm_unpackhi_epi8(b[0], b[1]);
      __m128i p23l = _mm_unpacklo_epi8(b[2], b[3]), p23h = _mm_unpackhi_epi8(b[2], b[3]);
      __m128i p45l = _mm_unpacklo_epi8(b[4], b[5]), p45h = _mm_unpackhi_epi8(b[4], b[5]);
      __m128i p67l = _mm_unpacklo_epi8(b[6], b[7]), p67h = _mm_unpackhi_epi8(b[6], b[7]);
      __m128i q0[4] = {_mm_unpacklo_epi16(p01l, p23l), _mm_unpackhi_epi16(p01l, p23l), _mm_unpacklo_epi16(p01h, p23h),
                       _mm_unpackhi_epi16(p01h, p23h)};
      __m128i q1[4] = {_mm_unpacklo_epi16(p45l, p67l), _mm_unpackhi_epi16(p45l, p67l), _mm_unpacklo_epi16(p45h, p67h),
                       _mm_unpackhi_epi16(p45h, p67h)};
      unsigned char *o = out + 8 * i;
      for (int k = 0; k < 4; k++) {
        _mm_storeu_si128((__m128i *)(o + 32 * k), _mm_unpacklo_epi32(q0[k], q1[k]));
        _mm_storeu_si128((__m128i *)(o + 32 * k + 16), _mm_unpackhi_epi32(q0[k], q1[k]));
      }
    }
  }
#endif
  for (; i < count; i++) {
    for (size_t k = 0; k < element_size; k++) out[i * element_size + k] = in[k * total + i];
  }
}

// MARK: adler32

// The zlib stream's check value, computed here rather than inside inflate() (zlib 1.2's adler32 is
// scalar, about a tenth of the inflate time): libdeflate's, vectorized. Same value as zlib's adler32().
uint32_t datasan_adler32(uint32_t adler, const void *data, size_t length) {
  return libdeflate_adler32(adler, data, length);
}

// MARK: deflate

// Inflates the whole zlib stream at `in` into exactly `out_bytes` bytes at `out`.
//
// As zlib's inflate() with a zlib wrapper (what H5Z_filter_deflate uses) accepts and rejects
// streams, but the wrapper is checked here: the header as inflate() checks it (method 8, window
// <= 32K, no preset dictionary, the check bits), the raw deflate data by zlib, then the
// big-endian adler32 of the output that follows the data.
static int inflate_exactly(datasan_chunk_decoder *decoder, const unsigned char *in, size_t in_bytes, unsigned char *out,
                           size_t out_bytes) {
  if (in_bytes < 2) return DATASAN_CHUNK_BAD_DEFLATE;
  unsigned cmf = in[0], flg = in[1];
  if (((cmf << 8) | flg) % 31 != 0 || (cmf & 0x0f) != 8 || (cmf >> 4) + 8 > 15 || (flg & 0x20))
    return DATASAN_CHUNK_BAD_DEFLATE;
  in += 2;
  in_bytes -= 2;
  if (!decoder->fast) decoder->fast = libdeflate_alloc_decompressor();
  if (decoder->fast) {
    // The whole chunk in one call; with no actual_out, the data must fill `out` exactly.
    size_t used = 0;
    enum libdeflate_result r = libdeflate_deflate_decompress_ex(decoder->fast, in, in_bytes, out, out_bytes, &used, NULL);
    if (r == LIBDEFLATE_SHORT_OUTPUT || r == LIBDEFLATE_INSUFFICIENT_SPACE) return DATASAN_CHUNK_BAD_SIZE;
    if (r != LIBDEFLATE_SUCCESS) return DATASAN_CHUNK_BAD_DEFLATE;
    if (in_bytes - used < 4) return DATASAN_CHUNK_BAD_DEFLATE;
    const unsigned char *t = in + used;
    uint32_t check = ((uint32_t)t[0] << 24) | ((uint32_t)t[1] << 16) | ((uint32_t)t[2] << 8) | t[3];
    return datasan_adler32(1, out, out_bytes) == check ? DATASAN_CHUNK_OK : DATASAN_CHUNK_BAD_DEFLATE;
  }
  z_stream *z = &decoder->stream;
  if (!decoder->stream_ready) {
    memset(z, 0, sizeof *z);
    if (inflateInit2(z, -15) != Z_OK) return DATASAN_CHUNK_NO_MEMORY;
    decoder->stream_ready = 1;
  } else if (inflateReset(z) != Z_OK) {
    return DATASAN_CHUNK_BAD_DEFLATE;
  }
  // zlib counts in uInt: feed and drain in pieces of at most UINT_MAX bytes.
  const size_t piece = UINT_MAX;
  size_t in_left = in_bytes, out_left = out_bytes;
  z->next_in = (Bytef *)in;
  z->next_out = out;
  z->avail_in = 0;
  z->avail_out = 0;
  for (;;) {
    if (z->avail_in == 0 && in_left > 0) {
      z->avail_in = (uInt)(in_left < piece ? in_left : piece);
      in_left -= z->avail_in;
    }
    if (z->avail_out == 0 && out_left > 0) {
      z->avail_out = (uInt)(out_left < piece ? out_left : piece);
      out_left -= z->avail_out;
    }
    int finish = in_left == 0 && out_left == 0;
    int status = inflate(z, finish ? Z_FINISH : Z_NO_FLUSH);
    if (status == Z_STREAM_END) break;
    if (status == Z_OK && !finish) continue;
    return status == Z_MEM_ERROR ? DATASAN_CHUNK_NO_MEMORY : DATASAN_CHUNK_BAD_DEFLATE;
  }
  // The data ended: it must have filled the chunk exactly, and its check value must follow.
  if (z->avail_out != 0 || out_left != 0) return DATASAN_CHUNK_BAD_SIZE;
  const unsigned char *trailer = z->next_in;
  if ((size_t)(in + in_bytes - trailer) < 4) return DATASAN_CHUNK_BAD_DEFLATE;
  uint32_t stored = ((uint32_t)trailer[0] << 24) | ((uint32_t)trailer[1] << 16) | ((uint32_t)trailer[2] << 8) | trailer[3];
  if (datasan_adler32(1, out, out_bytes) != stored) return DATASAN_CHUNK_BAD_DEFLATE;
  return DATASAN_CHUNK_OK;
}

// MARK: decode

int datasan_chunk_decode(datasan_chunk_decoder *decoder, void *stored_, size_t stored_bytes, unsigned steps,
                         size_t element_size, size_t chunk_bytes, void *out_, size_t out_bytes) {
  unsigned char *data = stored_;
  unsigned char *out = out_;
  size_t bytes = stored_bytes;
  if (element_size == 0 || out_bytes > chunk_bytes || chunk_bytes % element_size || out_bytes % element_size)
    return DATASAN_CHUNK_BAD_SIZE;
  if (steps & DATASAN_CHUNK_FLETCHER32) {
    if (bytes < 4) return DATASAN_CHUNK_BAD_SIZE;
    bytes -= 4;
    if (!fletcher32_matches(data, bytes)) return DATASAN_CHUNK_BAD_CHECKSUM;
  }
  int shuffled = (steps & DATASAN_CHUNK_SHUFFLE) && element_size > 1 && chunk_bytes / element_size > 1;
  if (steps & DATASAN_CHUNK_DEFLATE) {
    // Straight into `out` when nothing follows and the whole chunk is wanted.
    int direct = !shuffled && out_bytes == chunk_bytes;
    unsigned char *target = direct ? out : scratch(decoder, chunk_bytes);
    if (!target) return DATASAN_CHUNK_NO_MEMORY;
    int status = inflate_exactly(decoder, data, bytes, target, chunk_bytes);
    if (status != DATASAN_CHUNK_OK) return status;
    if (direct) return DATASAN_CHUNK_OK;
    data = target;
    bytes = chunk_bytes;
  }
  if (bytes != chunk_bytes) return DATASAN_CHUNK_BAD_SIZE;
  if (shuffled) {
    datasan_unshuffle(data, out, element_size, chunk_bytes / element_size, out_bytes / element_size);
  } else if (out_bytes > 0) {
    memcpy(out, data, out_bytes);
  }
  return DATASAN_CHUNK_OK;
}
