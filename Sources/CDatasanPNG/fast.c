// The fast path of datasan's PNG decoding: the PNGs of real datasets (gray of 1, 2, 4, 8 or 16 bits,
// gray+alpha, RGB or RGBA of 8 or 16 bits, palette of 1, 2, 4 or 8 bits; Adam7-interlaced or not; no
// critical chunk besides IHDR / PLTE / IDAT / IEND) decoded without libpng: every chunk's CRC
// checked (libdeflate's crc32), the zlib stream inflated in one call by libdeflate (adler32
// checked), the rows unfiltered and expanded here (palette to RGB, low-bit gray scaled to 8 bits,
// Adam7 passes scattered to their pixels). This is what a scan of an image folder spends its time
// on; libpng's own zlib inflate and its per-image setup were two thirds of it, and its palette,
// low-bit and Adam7 handling several times the common path per pixel.
//
// The rule that keeps this safe: the fast path only ever *accepts*. Whenever anything is not
// exactly the common case, or is wrong (a CRC, the zlib stream, too little or too much image
// data, a truncated file, an odd chunk, a palette index past the palette), it returns
// DATASAN_PNG_FAST_DECLINED and shim.c decodes the image with libpng, which gives the verdict and
// its message. So the fast path needs to agree with libpng only on the images it decodes, and for
// those the result is the same bytes.
//
// One known difference, on crafted input only: zlib refuses a back-reference farther than the
// window its header declares; libdeflate does not check that. A stream that does this and still
// matches its adler32 does not come out of a real encoder or a random corruption.

#include "fast.h"

#include <libdeflate.h>
#include <zlib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static uint32_t datasan_be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const unsigned char datasan_png_signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};

/// Samples per pixel as stored, for a color type (0 for an invalid one).
static int datasan_fast_samples(int color_type) {
  switch (color_type) {
  case 0: return 1;
  case 2: return 3;
  case 3: return 1;
  case 4: return 2;
  case 6: return 4;
  default: return 0;
  }
}

/// Whether IHDR's bit depth is one PNG allows for the color type (what libpng checks).
static int datasan_fast_depth_allowed(int depth, int color_type) {
  switch (color_type) {
  case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
  case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
  case 2:
  case 4:
  case 6: return depth == 8 || depth == 16;
  default: return 0;
  }
}

/// Adam7: first column, first row, column step and row step of each pass.
static const uint32_t datasan_adam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                             {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
static const uint32_t datasan_whole[1][4] = {{0, 0, 1, 1}};

/// The passes of an image: the seven of Adam7, or one of the whole image.
static const uint32_t (*datasan_fast_passes(int interlaced, int *count))[4] {
  *count = interlaced ? 7 : 1;
  return interlaced ? datasan_adam7 : datasan_whole;
}

/// Width (or height) of a pass: the columns x0, x0 + dx, ... below `size`.
static uint64_t datasan_pass_extent(uint32_t size, uint32_t x0, uint32_t dx) {
  return size <= x0 ? 0 : ((uint64_t)size - x0 + dx - 1) / dx;
}

uint64_t datasan_png_filtered_bytes(uint32_t width, uint32_t height, int depth, int color_type, int interlaced) {
  int samples = datasan_fast_samples(color_type);
  if (samples == 0 || !datasan_fast_depth_allowed(depth, color_type)) return UINT64_MAX;
  uint64_t bits = (uint64_t)samples * (uint64_t)depth;
  int count;
  const uint32_t(*passes)[4] = datasan_fast_passes(interlaced, &count);
  uint64_t total = 0;
  for (int k = 0; k < count; k++) {
    uint64_t w = datasan_pass_extent(width, passes[k][0], passes[k][2]);
    uint64_t h = datasan_pass_extent(height, passes[k][1], passes[k][3]);
    if (w == 0 || h == 0) continue;
    uint64_t row = (w * bits + 7) / 8 + 1, bytes;  // w < 2^32 and bits <= 64: no overflow
    if (__builtin_mul_overflow(row, h, &bytes) || __builtin_add_overflow(total, bytes, &total)) return UINT64_MAX;
  }
  return total;
}

/// Where the image data is, from a walk over the chunks after IHDR.
typedef struct datasan_fast_chunks {
  size_t idat_first;   // offset of the first IDAT chunk
  size_t idat_chunks;  // how many IDAT chunks (one run)
  size_t idat_size;    // their data bytes together
  size_t plte_at;      // offset of the PLTE chunk (0: none)
  uint32_t plte_size;  // its data bytes
} datasan_fast_chunks;

/// Walks the chunks from offset `at`, checking each one's CRC: up to the first IDAT (`header_only`,
/// what libpng reads for the header; idat_first is then where it starts, and with `palette` one
/// PLTE chunk is taken), or through the run of IDAT chunks to IEND. False, to decline,
/// for a truncated file, a bad CRC or chunk name, a critical chunk other than IDAT / IEND (a PLTE
/// not asked for or a second one, a second IHDR, ...), an ancillary chunk over 64 KiB, IDAT chunks
/// not in one run, a non-empty IEND: libpng decides those.
static int datasan_fast_walk(const unsigned char *p, size_t size, size_t at, int header_only, int palette,
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
    } else if (memcmp(type, "PLTE", 4) == 0) {
      if (!header_only || !palette || chunks->plte_at != 0) return 0;
      chunks->plte_at = at;
      chunks->plte_size = length;
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
  // What libpng checks in IHDR.
  if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu) return DATASAN_PNG_FAST_DECLINED;
  if (!datasan_fast_depth_allowed(depth, color)) return DATASAN_PNG_FAST_DECLINED;
  if (ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1) return DATASAN_PNG_FAST_DECLINED;  // deflate, filter 0
  datasan_fast_chunks chunks;
  if (!datasan_fast_walk(p, size, 8 + 8 + 13 + 4, 1, color == 3, &chunks)) return DATASAN_PNG_FAST_DECLINED;
  if (color == 3) {
    // One PLTE of whole entries, no more than the bit depth can index (libpng's own rules).
    uint32_t entries = chunks.plte_size / 3;
    if (chunks.plte_at == 0 || chunks.plte_size % 3 != 0 || entries == 0 || entries > (1u << depth)) {
      return DATASAN_PNG_FAST_DECLINED;
    }
  }
  *image_data_at = chunks.idat_first;
  int channels = color == 3 ? 3 : datasan_fast_samples(color);
  int value_bytes = depth == 16 ? 2 : 1;
  memset(header, 0, sizeof(*header));
  header->width = width;
  header->height = height;
  header->channels = channels;
  header->bit_depth = value_bytes * 8;
  header->source_bit_depth = depth;
  header->source_color_type = color;
  header->interlaced = ihdr[12];
  header->decoded_bytes = (uint64_t)width * height * (uint64_t)channels * (uint64_t)value_bytes;
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

/// Images whose inflated rows take more are inflated row by row with zlib (two rows of memory, zlib's
/// speed: about libpng's) instead of whole by libdeflate (twice as fast, the rows' size in memory):
/// 64 MiB is a 4K 16-bit RGBA image; beyond, memory wins. A test build sets it to 0.
#ifndef DATASAN_FAST_STREAM
#define DATASAN_FAST_STREAM (64u << 20)
#endif

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

/// Where the filtered rows come from, one after the other: a buffer that holds them all (inflated by
/// libdeflate in one call), or a zlib stream inflated row by row over the IDAT chunks, for an image
/// whose inflated rows would take more than DATASAN_FAST_STREAM: then memory is two rows, whatever
/// the image's size.
typedef struct datasan_fast_rows {
  unsigned char *buffer;  // all rows (buffer mode), or two rows of the widest pass (stream mode)
  size_t at;              // buffer mode: offset of the next row
  z_stream *z;            // stream mode, else NULL
  int current;            // stream mode: which of the two rows is the newest
  size_t half;            // stream mode: bytes of one row slot
  const unsigned char *p; // the file (stream mode: where the next IDAT chunk is)
  size_t next_chunk, chunks_left;
} datasan_fast_rows;

/// The next filtered row (`length` bytes: the filter type byte, then the row), and in *previous the
/// row before it in the same pass; NULL when the data ends early or is not valid zlib.
static unsigned char *datasan_fast_next_row(datasan_fast_rows *rows, size_t length, unsigned char **previous) {
  if (rows->z == NULL) {
    unsigned char *row = rows->buffer + rows->at;
    *previous = rows->at >= length ? row - length : row;
    rows->at += length;
    return row;
  }
  *previous = rows->buffer + (size_t)rows->current * rows->half;
  rows->current ^= 1;
  unsigned char *row = rows->buffer + (size_t)rows->current * rows->half;
  z_stream *z = rows->z;
  z->next_out = row;
  z->avail_out = (uInt)length;
  while (z->avail_out > 0) {
    if (z->avail_in == 0) {
      if (rows->chunks_left == 0) return NULL;
      z->next_in = (Bytef *)(rows->p + rows->next_chunk + 8);
      z->avail_in = datasan_be32(rows->p + rows->next_chunk);
      rows->next_chunk += 12 + (size_t)z->avail_in;
      rows->chunks_left--;
      continue;
    }
    int rc = inflate(z, Z_NO_FLUSH);
    if (rc == Z_STREAM_END && z->avail_out > 0) return NULL;  // the data ends before the image
    if (rc != Z_OK && rc != Z_STREAM_END) return NULL;
  }
  return row;
}

/// Whether a zlib stream ends right after the image's rows (adler32 checked) with every IDAT byte
/// used: what libdeflate's one call checks in buffer mode.
static int datasan_fast_stream_ends(datasan_fast_rows *rows) {
  z_stream *z = rows->z;
  unsigned char extra;
  for (;;) {
    z->next_out = &extra;
    z->avail_out = 1;
    int rc = inflate(z, Z_NO_FLUSH);
    if (z->avail_out == 0) return 0;  // more image data than the image
    if (rc == Z_STREAM_END) return z->avail_in == 0 && rows->chunks_left == 0;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return 0;
    if (z->avail_in > 0) continue;
    if (rows->chunks_left == 0) return 0;
    z->next_in = (Bytef *)(rows->p + rows->next_chunk + 8);
    z->avail_in = datasan_be32(rows->p + rows->next_chunk);
    rows->next_chunk += 12 + (size_t)z->avail_in;
    rows->chunks_left--;
  }
}

/// Writes the pixels of one unfiltered row of any image the fast path takes (palette, gray of 1/2/4
/// bits, Adam7 passes, ...) where they belong, expanded as libpng expands them: a palette index to
/// its RGB entry (DECLINED for an index past the palette), gray of 1/2/4 bits scaled to 8 bits
/// (x 255, 85, 17), 16-bit values to native byte order. Row `r` of pass (x0, y0, dx, dy).
static int datasan_fast_expand_row(const unsigned char *line, const datasan_png_header *header, size_t pass_width,
                                   size_t x0, size_t y, size_t dx, const unsigned char *palette,
                                   uint32_t palette_entries, int channels_first, unsigned char *out) {
  const int depth = header->source_bit_depth, color = header->source_color_type;
  const size_t samples = (size_t)datasan_fast_samples(color), channels = (size_t)header->channels;
  const size_t plane = (size_t)header->width * header->height;
  // Where value c of pixel p goes, in values: c * c_step + p * p_step.
  const size_t c_step = channels_first ? plane : 1, p_step = channels_first ? 1 : channels;
  const unsigned mask = (1u << (depth < 8 ? depth : 8)) - 1u;
  const unsigned scale = depth == 1 ? 255 : depth == 2 ? 85 : depth == 4 ? 17 : 1;
  uint16_t *out16 = (uint16_t *)(void *)out;
  size_t pixel = y * header->width + x0;
  for (size_t i = 0; i < pass_width; i++, pixel += dx) {
    size_t at = pixel * p_step;
    if (depth == 16) {
      for (size_t c = 0; c < samples; c++) {
        const unsigned char *v = line + 2 * (i * samples + c);
        out16[at + c * c_step] = (uint16_t)(v[0] << 8 | v[1]);
      }
      continue;
    }
    if (depth == 8 && color != 3) {
      for (size_t c = 0; c < samples; c++) out[at + c * c_step] = line[i * samples + c];
      continue;
    }
    unsigned value;
    if (depth < 8) {
      size_t bit = i * (size_t)depth;
      value = (unsigned)(line[bit >> 3] >> (8 - depth - (int)(bit & 7))) & mask;
    } else {
      value = line[i];
    }
    if (color == 3) {
      if (value >= palette_entries) return DATASAN_PNG_FAST_DECLINED;
      const unsigned char *entry = palette + 3 * value;
      out[at] = entry[0];
      out[at + c_step] = entry[1];
      out[at + 2 * c_step] = entry[2];
    } else {
      out[at] = (unsigned char)(value * scale);
    }
  }
  return DATASAN_PNG_OK;
}

/// Unfilters every row of every pass from `rows` and writes the pixels to `out`: the common image
/// (8/16-bit, no palette, not interlaced) by whole rows, the others pixel by pixel.
static int datasan_fast_decode_rows(datasan_fast_rows *rows, const datasan_png_header *header,
                                    const unsigned char *palette, uint32_t palette_entries, int channels_first,
                                    unsigned char *out) {
  const int depth = header->source_bit_depth, color = header->source_color_type;
  const int plain = !header->interlaced && depth >= 8 && color != 3;
  const size_t channels = (size_t)header->channels, value_size = (size_t)header->bit_depth / 8;
  const size_t bits = (size_t)datasan_fast_samples(color) * (size_t)depth, filter_bpp = bits >= 8 ? bits / 8 : 1;
  int count;
  const uint32_t(*passes)[4] = datasan_fast_passes(header->interlaced, &count);
  for (int k = 0; k < count; k++) {
    const size_t pass_width = (size_t)datasan_pass_extent(header->width, passes[k][0], passes[k][2]);
    const size_t pass_height = (size_t)datasan_pass_extent(header->height, passes[k][1], passes[k][3]);
    if (pass_width == 0 || pass_height == 0) continue;
    const size_t row_bytes = (pass_width * bits + 7) / 8;
    for (size_t r = 0; r < pass_height; r++) {
      unsigned char *previous;
      unsigned char *row = datasan_fast_next_row(rows, row_bytes + 1, &previous);
      if (row == NULL) return DATASAN_PNG_FAST_DECLINED;
      int ok = r == 0 ? datasan_unfilter_first(row[0], row + 1, row_bytes, filter_bpp)
                      : datasan_unfilter(row[0], row + 1, previous + 1, row_bytes, filter_bpp);
      if (!ok) return DATASAN_PNG_FAST_DECLINED;
      size_t y = passes[k][1] + r * passes[k][3];
      if (plain) {
        datasan_fast_store(row + 1, out, y, header->width, header->height, channels, value_size, channels_first);
      } else if (datasan_fast_expand_row(row + 1, header, pass_width, passes[k][0], y, passes[k][2], palette,
                                         palette_entries, channels_first, out) != DATASAN_PNG_OK) {
        return DATASAN_PNG_FAST_DECLINED;
      }
    }
  }
  return DATASAN_PNG_OK;
}

int datasan_png_fast_decode(const void *data, size_t size, const datasan_png_header *header, size_t image_data_at,
                            int channels_first, void *out, size_t out_size) {
  if (out == NULL || out_size < header->decoded_bytes) return DATASAN_PNG_FAST_DECLINED;
  const unsigned char *p = (const unsigned char *)data;
  const int color = header->source_color_type;
  // Each row of each pass: its filter type byte, then the row.
  uint64_t filtered = datasan_png_filtered_bytes(header->width, header->height, header->source_bit_depth, color,
                                                 header->interlaced);
  if (filtered == UINT64_MAX || filtered > (uint64_t)SIZE_MAX / 2) return DATASAN_PNG_FAST_DECLINED;
  const size_t filtered_bytes = (size_t)filtered;

  // The palette, from the chunks before the image data (their CRCs were checked with the header).
  const unsigned char *palette = NULL;
  uint32_t palette_entries = 0;
  if (color == 3) {
    datasan_fast_chunks before;
    if (!datasan_fast_walk(p, size, 8 + 8 + 13 + 4, 1, 1, &before) || before.plte_at == 0) {
      return DATASAN_PNG_FAST_DECLINED;
    }
    palette = p + before.plte_at + 8;
    palette_entries = before.plte_size / 3;
  }

  datasan_fast_chunks chunks;
  if (!datasan_fast_walk(p, size, image_data_at, 0, 0, &chunks)) return DATASAN_PNG_FAST_DECLINED;
  const size_t idat_chunks = chunks.idat_chunks, idat_size = chunks.idat_size;

  datasan_fast_rows rows;
  memset(&rows, 0, sizeof(rows));
  int status = DATASAN_PNG_FAST_DECLINED;
  if (filtered_bytes > DATASAN_FAST_STREAM) {
    // A large image: zlib, row by row, straight from the IDAT chunks (two rows of memory).
    size_t widest = ((size_t)header->width * (size_t)datasan_fast_samples(color) * (size_t)header->source_bit_depth +
                     7) / 8 + 1;
    z_stream z;
    memset(&z, 0, sizeof(z));
    unsigned char *two = (unsigned char *)calloc(2, widest);
    if (two == NULL || inflateInit(&z) != Z_OK) {
      free(two);
      return DATASAN_PNG_FAST_DECLINED;
    }
    rows.buffer = two;
    rows.half = widest;
    rows.z = &z;
    rows.p = p;
    rows.next_chunk = chunks.idat_first;
    rows.chunks_left = idat_chunks;
    status = datasan_fast_decode_rows(&rows, header, palette, palette_entries, channels_first, (unsigned char *)out);
    if (status == DATASAN_PNG_OK && !datasan_fast_stream_ends(&rows)) status = DATASAN_PNG_FAST_DECLINED;
    inflateEnd(&z);
    free(two);
    return status;
  }

  datasan_fast_scratch *scratch = datasan_fast_scratch_get();
  if (scratch == NULL) return DATASAN_PNG_FAST_DECLINED;
  int owned = 0;
  size_t need = filtered_bytes + (idat_chunks > 1 ? idat_size : 0);
  unsigned char *buffer = datasan_fast_buffer(scratch, need, &owned);
  if (buffer == NULL) return DATASAN_PNG_FAST_DECLINED;
  const unsigned char *idat = p + chunks.idat_first + 8;  // the data of the first IDAT chunk
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
    rows.buffer = buffer;
    status = datasan_fast_decode_rows(&rows, header, palette, palette_entries, channels_first, (unsigned char *)out);
  }
  if (owned) free(buffer);
  return status;
}
