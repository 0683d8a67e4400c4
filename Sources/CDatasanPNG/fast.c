// The fast path of datasan's PNG decoding: the common PNG (8- or 16-bit gray, gray+alpha, RGB or
// RGBA, not interlaced, no critical chunk besides IHDR / IDAT / IEND) decoded without libpng:
// every chunk's CRC checked (libdeflate's crc32), the zlib stream inflated in one call by
// libdeflate (adler32 checked), the rows unfiltered here. This is what a scan of an image folder
// spends its time on; libpng's own zlib inflate and its per-image setup were two thirds of it.
//
// The rule that keeps this safe: the fast path only ever *accepts*. Whenever anything is not
// exactly the common case, or is wrong (a CRC, the zlib stream, too little or too much image
// data, a truncated file, an odd chunk), it returns DATASAN_PNG_FAST_DECLINED and shim.c decodes
// the image with libpng, which gives the verdict and its message. So the fast path needs to agree
// with libpng only on the images it decodes, and for those the result is the same bytes.
//
// One known difference, on crafted input only: zlib refuses a back-reference farther than the
// window its header declares; libdeflate does not check that. A stream that does this and still
// matches its adler32 does not come out of a real encoder or a random corruption.

#include "fast.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static uint32_t datasan_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const unsigned char datasan_png_signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

/// Channels for the color types of the fast path (0 for the others).
static int datasan_fast_channels(int color_type) {
  switch (color_type) {
  case 0: return 1;
  case 2: return 3;
  case 4: return 2;
  case 6: return 4;
  default: return 0;
  }
}

/// Where the image data is, from a walk over the chunks after IHDR.
typedef struct datasan_fast_chunks {
  size_t idat_first;   // offset of the first IDAT chunk
  size_t idat_chunks;  // how many IDAT chunks (one run)
  size_t idat_size;    // their data bytes together
} datasan_fast_chunks;

/// Walks the chunks from offset `at`, checking each one's CRC: up to the first IDAT (`header_only`,
/// what libpng reads for the header; idat_first is then where it starts), or through the run of
/// IDAT chunks to IEND. False, to decline,
/// for a truncated file, a bad CRC or chunk name, a critical chunk other than IDAT / IEND (PLTE,
/// a second IHDR, ...), an ancillary chunk over 64 KiB, IDAT chunks not in one run, a non-empty
/// IEND: libpng decides those.
static int datasan_fast_walk(const unsigned char *p, size_t size, size_t at, int header_only,
                             datasan_fast_chunks *chunks) {
  memset(chunks, 0, sizeof(*chunks));
  int idat_done = 0;
  for (;;) {
    if (size - at < 12) return 0;  // truncated
    uint32_t length = datasan_be32(p + at);
    const unsigned char *type = p + at + 4;
    if (length > 0x7fffffffu || length > size - at - 12) return 0;
    for (int i = 0; i < 4; i++) {
      unsigned char ch = type[i] & 0xDF;
      if (ch < 'A' || ch > 'Z') return 0;
    }
    if ((uint32_t)libdeflate_crc32(0, type, 4 + (size_t)length) != datasan_be32(type + 4 + length)) return 0;
    if (memcmp(type, "IDAT", 4) == 0) {
      if (chunks->idat_chunks == 0) chunks->idat_first = at;
      if (header_only) return 1;
      if (idat_done) return 0;
      chunks->idat_chunks++;
      chunks->idat_size += length;
    } else {
      if (chunks->idat_chunks > 0) idat_done = 1;
      if (memcmp(type, "IEND", 4) == 0) return length == 0 && chunks->idat_chunks > 0;
      if (!(type[0] & 0x20) || (type[2] & 0x20) || length > 65536) return 0;
    }
    at += 12 + (size_t)length;
  }
}

int datasan_png_fast_header(const void *data, size_t size, datasan_png_header *header, size_t *image_data_at) {
  const unsigned char *p = (const unsigned char *)data;
  // Signature, then IHDR: length 13, type, 13 bytes, CRC.
  if (size < 8 + 8 + 13 + 4 || memcmp(p, datasan_png_signature, 8) != 0) return DATASAN_PNG_FAST_DECLINED;
  if (datasan_be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) != 0) return DATASAN_PNG_FAST_DECLINED;
  if ((uint32_t)libdeflate_crc32(0, p + 12, 4 + 13) != datasan_be32(p + 12 + 4 + 13)) return DATASAN_PNG_FAST_DECLINED;
  const unsigned char *ihdr = p + 16;
  uint32_t width = datasan_be32(ihdr), height = datasan_be32(ihdr + 4);
  int depth = ihdr[8], color = ihdr[9];
  // What libpng checks in IHDR, narrowed to the fast path's images.
  if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu) return DATASAN_PNG_FAST_DECLINED;
  if ((depth != 8 && depth != 16) || datasan_fast_channels(color) == 0) return DATASAN_PNG_FAST_DECLINED;
  if (ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] != 0) return DATASAN_PNG_FAST_DECLINED;  // deflate, filter 0, no interlace
  datasan_fast_chunks chunks;
  if (!datasan_fast_walk(p, size, 8 + 8 + 13 + 4, 1, &chunks)) return DATASAN_PNG_FAST_DECLINED;
  *image_data_at = chunks.idat_first;
  int channels = datasan_fast_channels(color);
  memset(header, 0, sizeof(*header));
  header->width = width;
  header->height = height;
  header->channels = channels;
  header->bit_depth = depth;
  header->source_bit_depth = depth;
  header->source_color_type = color;
  header->interlaced = 0;
  header->decoded_bytes = (uint64_t)width * height * (uint64_t)channels * (uint64_t)(depth / 8);
  return DATASAN_PNG_OK;
}

/// Scratch memory of one thread: the decompressor and the filtered image data, kept between images.
typedef struct datasan_fast_scratch {
  struct libdeflate_decompressor *decompressor;
  unsigned char *buffer;
  size_t capacity;
} datasan_fast_scratch;

/// Each thread's scratch lives behind a pthread key, so that it is freed when the thread ends
/// (dispatch creates and retires worker threads over a long run).
static pthread_key_t datasan_scratch_key;
static pthread_once_t datasan_scratch_once = PTHREAD_ONCE_INIT;

static void datasan_scratch_free(void *pointer) {
  datasan_fast_scratch *scratch = (datasan_fast_scratch *)pointer;
  if (scratch == NULL) return;
  if (scratch->decompressor != NULL) libdeflate_free_decompressor(scratch->decompressor);
  free(scratch->buffer);
  free(scratch);
}

static void datasan_scratch_make_key(void) { (void)pthread_key_create(&datasan_scratch_key, datasan_scratch_free); }

/// This thread's scratch (created on first use), or NULL when out of memory.
static datasan_fast_scratch *datasan_fast_scratch_get(void) {
  pthread_once(&datasan_scratch_once, datasan_scratch_make_key);
  datasan_fast_scratch *scratch = (datasan_fast_scratch *)pthread_getspecific(datasan_scratch_key);
  if (scratch != NULL) return scratch;
  scratch = (datasan_fast_scratch *)calloc(1, sizeof(*scratch));
  if (scratch == NULL) return NULL;
  scratch->decompressor = libdeflate_alloc_decompressor();
  if (scratch->decompressor == NULL || pthread_setspecific(datasan_scratch_key, scratch) != 0) {
    datasan_scratch_free(scratch);
    return NULL;
  }
  return scratch;
}

/// Kept up to this size between images; larger images get (and free) a buffer of their own.
#define DATASAN_FAST_KEEP (8u << 20)

static unsigned char *datasan_fast_buffer(datasan_fast_scratch *scratch, size_t size, int *owned) {
  *owned = 0;
  if (size <= scratch->capacity) return scratch->buffer;
  if (size > DATASAN_FAST_KEEP) {
    *owned = 1;
    return (unsigned char *)malloc(size);
  }
  unsigned char *grown = (unsigned char *)realloc(scratch->buffer, size);
  if (grown == NULL) return NULL;
  scratch->buffer = grown;
  scratch->capacity = size;
  return grown;
}

static inline unsigned char datasan_paeth(unsigned char a, unsigned char b, unsigned char c) {
  int p = (int)a + (int)b - (int)c;
  int pa = abs(p - (int)a), pb = abs(p - (int)b), pc = abs(p - (int)c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/// Undoes the filter of one row in place. `previous` is the unfiltered row above (zeros for the
/// first row), `bpp` the bytes per pixel. False for an invalid filter type.
static int datasan_unfilter(int filter, unsigned char *row, const unsigned char *previous, size_t length, size_t bpp) {
  switch (filter) {
  case 0: return 1;
  case 1:
    for (size_t i = bpp; i < length; i++) row[i] = (unsigned char)(row[i] + row[i - bpp]);
    return 1;
  case 2:
    for (size_t i = 0; i < length; i++) row[i] = (unsigned char)(row[i] + previous[i]);
    return 1;
  case 3:
    for (size_t i = 0; i < bpp; i++) row[i] = (unsigned char)(row[i] + (previous[i] >> 1));
    for (size_t i = bpp; i < length; i++) row[i] = (unsigned char)(row[i] + ((row[i - bpp] + previous[i]) >> 1));
    return 1;
  case 4:
    for (size_t i = 0; i < bpp; i++) row[i] = (unsigned char)(row[i] + previous[i]);
    for (size_t i = bpp; i < length; i++) row[i] = (unsigned char)(row[i] + datasan_paeth(row[i - bpp], previous[i], previous[i - bpp]));
    return 1;
  default: return 0;
  }
}

/// The first row: the row above is all zeros (Up adds nothing, Paeth picks the left byte).
static int datasan_unfilter_first(int filter, unsigned char *row, size_t length, size_t bpp) {
  switch (filter) {
  case 0:
  case 2: return 1;
  case 1:
  case 4:
    for (size_t i = bpp; i < length; i++) row[i] = (unsigned char)(row[i] + row[i - bpp]);
    return 1;
  case 3:
    for (size_t i = bpp; i < length; i++) row[i] = (unsigned char)(row[i] + (row[i - bpp] >> 1));
    return 1;
  default: return 0;
  }
}

/// Writes one unfiltered row (interleaved, big-endian samples) to the output layout.
static void datasan_fast_store(const unsigned char *row, unsigned char *out, size_t y, size_t width, size_t height,
                               size_t channels, size_t value_size, int channels_first) {
  if (!channels_first || channels == 1) {
    unsigned char *dst = out + y * width * channels * value_size;
    if (value_size == 1) {
      memcpy(dst, row, width * channels);
    } else {
      for (size_t i = 0; i < width * channels; i++) {
        uint16_t v = (uint16_t)(row[2 * i] << 8 | row[2 * i + 1]);
        memcpy(dst + 2 * i, &v, 2);
      }
    }
    return;
  }
  size_t plane = width * height;
  if (value_size == 1) {
    for (size_t c = 0; c < channels; c++) {
      unsigned char *dst = out + c * plane + y * width;
      const unsigned char *src = row + c;
      for (size_t x = 0; x < width; x++) dst[x] = src[x * channels];
    }
  } else {
    uint16_t *base = (uint16_t *)(void *)out;
    for (size_t c = 0; c < channels; c++) {
      uint16_t *dst = base + c * plane + y * width;
      const unsigned char *src = row + 2 * c;
      for (size_t x = 0; x < width; x++) dst[x] = (uint16_t)(src[2 * x * channels] << 8 | src[2 * x * channels + 1]);
    }
  }
}

int datasan_png_fast_decode(const void *data, size_t size, const datasan_png_header *header, size_t image_data_at,
                            int channels_first, void *out, size_t out_size) {
  if (out == NULL || out_size < header->decoded_bytes) return DATASAN_PNG_FAST_DECLINED;
  const unsigned char *p = (const unsigned char *)data;
  const size_t width = header->width, height = header->height, channels = (size_t)header->channels;
  const size_t value_size = (size_t)header->bit_depth / 8, bpp = channels * value_size;
  size_t row_bytes;
  if (__builtin_mul_overflow(width, bpp, &row_bytes)) return DATASAN_PNG_FAST_DECLINED;
  size_t filtered_bytes;  // each row: its filter type byte, then the row
  if (__builtin_mul_overflow(row_bytes + 1, height, &filtered_bytes)) return DATASAN_PNG_FAST_DECLINED;

  datasan_fast_chunks chunks;
  if (!datasan_fast_walk(p, size, image_data_at, 0, &chunks)) return DATASAN_PNG_FAST_DECLINED;
  const size_t idat_chunks = chunks.idat_chunks, idat_size = chunks.idat_size;
  const unsigned char *idat = p + chunks.idat_first + 8;  // the data of the first IDAT chunk

  datasan_fast_scratch *scratch = datasan_fast_scratch_get();
  if (scratch == NULL) return DATASAN_PNG_FAST_DECLINED;
  int owned = 0;
  size_t need = filtered_bytes + (idat_chunks > 1 ? idat_size : 0);
  unsigned char *buffer = datasan_fast_buffer(scratch, need, &owned);
  if (buffer == NULL) return DATASAN_PNG_FAST_DECLINED;
  int status = DATASAN_PNG_FAST_DECLINED;
  if (idat_chunks > 1) {  // gather the compressed data of all IDAT chunks
    unsigned char *gathered = buffer + filtered_bytes;
    size_t position = chunks.idat_first, filled = 0;
    for (size_t k = 0; k < idat_chunks; k++) {
      uint32_t length = datasan_be32(p + position);
      memcpy(gathered + filled, p + position + 8, length);
      filled += length;
      position += 12 + (size_t)length;
    }
    idat = gathered;
  }
  size_t in_used = 0, out_made = 0;
  if (libdeflate_zlib_decompress_ex(scratch->decompressor, idat, idat_size, buffer, filtered_bytes, &in_used,
                                    &out_made) == LIBDEFLATE_SUCCESS &&
      in_used == idat_size && out_made == filtered_bytes) {
    status = DATASAN_PNG_OK;
    for (size_t y = 0; y < height; y++) {
      unsigned char *row = buffer + y * (row_bytes + 1);
      int ok = y == 0 ? datasan_unfilter_first(row[0], row + 1, row_bytes, bpp)
                      : datasan_unfilter(row[0], row + 1, row - row_bytes, row_bytes, bpp);
      if (!ok) {
        status = DATASAN_PNG_FAST_DECLINED;
        break;
      }
      datasan_fast_store(row + 1, (unsigned char *)out, y, width, height, channels, value_size, channels_first);
    }
  }
  if (owned) free(buffer);
  return status;
}
