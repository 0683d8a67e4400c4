#ifndef DATASAN_NPY_INFLATE_H
#define DATASAN_NPY_INFLATE_H

// A raw-deflate stream (a zip member compressed by np.savez_compressed), inflated in pieces:
// the caller feeds the compressed bytes as it reads them and takes the output a buffer at a time,
// so that memory never depends on the member's size. A stream is used by one thread at a time.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct datasan_npy_inflater datasan_npy_inflater;

enum {
  DATASAN_NPY_INFLATE_OK = 0,         // output written; more may follow
  DATASAN_NPY_INFLATE_END = 1,        // the deflate stream ended
  DATASAN_NPY_INFLATE_NEED_INPUT = 2, // every input byte was taken; feed more
  DATASAN_NPY_INFLATE_BAD = 3,        // corrupt compressed data
};

// A new stream (NULL when out of memory).
datasan_npy_inflater *datasan_npy_inflater_new(void);
void datasan_npy_inflater_free(datasan_npy_inflater *s);
// Starts over, for a new member or to read the same one again from its start.
int datasan_npy_inflater_reset(datasan_npy_inflater *s);
// Inflates from `*in` (`*in_left` bytes) into `out` (`out_size` bytes): advances `*in`, lowers
// `*in_left`, sets `*written`. Returns one of the codes above.
int datasan_npy_inflate(
    datasan_npy_inflater *s, const unsigned char **in, size_t *in_left, unsigned char *out, size_t out_size,
    size_t *written);
// zlib's crc32 of `length` bytes, continuing `crc` (0 to start).
unsigned long datasan_npy_crc32(unsigned long crc, const void *data, size_t length);

#ifdef __cplusplus
}
#endif
#endif
