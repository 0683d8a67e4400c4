#ifndef DATASAN_HDF5_INFLATE_H
#define DATASAN_HDF5_INFLATE_H

// Decoding of raw HDF5 chunks (as H5Dread_chunk returns them) without libhdf5: the read side
// of the fletcher32, deflate and shuffle filters, so that chunks can be decoded on every core
// while libhdf5 (serialized behind one global lock in Debian's thread-safe build) only
// copies the stored bytes.
//
// Nothing here calls libhdf5. A decoder is used by one thread at a time.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The read-side steps of a pipeline, applied in this order: verify and strip the fletcher32
// checksum, inflate, unshuffle (the reverse of the write order shuffle, deflate, fletcher32).
enum {
  DATASAN_CHUNK_FLETCHER32 = 1u,
  DATASAN_CHUNK_DEFLATE = 2u,
  DATASAN_CHUNK_SHUFFLE = 4u,
};

// Why a chunk could not be decoded. The caller reads such a chunk again through H5Dread,
// which decides (and words) what is wrong with it.
enum {
  DATASAN_CHUNK_OK = 0,
  DATASAN_CHUNK_BAD_CHECKSUM = 1,
  DATASAN_CHUNK_BAD_DEFLATE = 2,
  DATASAN_CHUNK_BAD_SIZE = 3,
  DATASAN_CHUNK_NO_MEMORY = 4,
};

// A zlib stream and a scratch buffer, reused from chunk to chunk.
typedef struct datasan_chunk_decoder datasan_chunk_decoder;

datasan_chunk_decoder *datasan_chunk_decoder_new(void);
void datasan_chunk_decoder_free(datasan_chunk_decoder *decoder);

// Decodes one stored chunk of `stored_bytes` bytes at `stored` (the bytes may be modified)
// whose filters were applied as `steps` says, holding `chunk_bytes` bytes of values of
// `element_size` bytes each once decoded, and writes the first `out_bytes` of those bytes
// (`out_bytes` <= `chunk_bytes`, a multiple of `element_size`: the rows of an edge chunk that
// exist) to `out`. Returns DATASAN_CHUNK_OK or the reason it failed (`out` is then undefined).
int datasan_chunk_decode(
    datasan_chunk_decoder *decoder, void *stored, size_t stored_bytes, unsigned steps, size_t element_size,
    size_t chunk_bytes, void *out, size_t out_bytes);

// HDF5's fletcher32 checksum (H5_checksum_fletcher32 of H5checksum.c) of `length` bytes.
uint32_t datasan_fletcher32(const void *data, size_t length);

// zlib's adler32(adler, data, length), vectorized.
uint32_t datasan_adler32(uint32_t adler, const void *data, size_t length);

// The first `count` of the `total` elements of `element_size` bytes held byte-plane by byte-plane
// at `in` (as HDF5's shuffle filter stores them), interleaved back into `out`.
void datasan_unshuffle(const void *in, void *out, size_t element_size, size_t total, size_t count);

#ifdef __cplusplus
}
#endif

#endif
