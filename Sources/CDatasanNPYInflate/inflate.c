#include "npy_inflate.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

struct datasan_npy_inflater {
  z_stream z;
};

datasan_npy_inflater *datasan_npy_inflater_new(void) {
  datasan_npy_inflater *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (inflateInit2(&s->z, -MAX_WBITS) != Z_OK) {  // raw deflate, as zip stores it
    free(s);
    return NULL;
  }
  return s;
}

void datasan_npy_inflater_free(datasan_npy_inflater *s) {
  if (!s) return;
  inflateEnd(&s->z);
  free(s);
}

int datasan_npy_inflater_reset(datasan_npy_inflater *s) { return inflateReset(&s->z) == Z_OK ? 0 : -1; }

int datasan_npy_inflate(
    datasan_npy_inflater *s, const unsigned char **in, size_t *in_left, unsigned char *out, size_t out_size,
    size_t *written) {
  // zlib counts in uInt: pieces above 1 GiB are cut (the caller loops).
  size_t in_now = *in_left > (1u << 30) ? (1u << 30) : *in_left;
  size_t out_now = out_size > (1u << 30) ? (1u << 30) : out_size;
  s->z.next_in = (Bytef *)*in;
  s->z.avail_in = (uInt)in_now;
  s->z.next_out = out;
  s->z.avail_out = (uInt)out_now;
  int rc = inflate(&s->z, Z_NO_FLUSH);
  size_t used = in_now - s->z.avail_in;
  *in += used;
  *in_left -= used;
  *written = out_now - s->z.avail_out;
  if (rc == Z_STREAM_END) return DATASAN_NPY_INFLATE_END;
  if (rc == Z_OK) return DATASAN_NPY_INFLATE_OK;
  if (rc == Z_BUF_ERROR) return *in_left == 0 ? DATASAN_NPY_INFLATE_NEED_INPUT : DATASAN_NPY_INFLATE_OK;
  return DATASAN_NPY_INFLATE_BAD;
}

unsigned long datasan_npy_crc32(unsigned long crc, const void *data, size_t length) {
  const unsigned char *p = data;
  while (length > 0) {
    uInt n = length > UINT_MAX / 2 ? UINT_MAX / 2 : (uInt)length;
    crc = crc32(crc, p, n);
    p += n;
    length -= n;
  }
  return crc;
}
