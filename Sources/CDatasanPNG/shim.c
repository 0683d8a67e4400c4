// The only place datasan calls libpng's classic API. See include/CDatasanPNG.h.
//
// libpng reports errors by longjmp to the png_jmpbuf. Every libpng call below runs inside
// datasan_png_run, the one function that owns that setjmp, so a longjmp never crosses a
// Swift frame. The callbacks (error, warning, read) only copy text and bytes.

#include "CDatasanPNG.h"
#include "fast.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// Where libpng reads from and writes its messages to.
typedef struct datasan_png_context {
  const unsigned char *data;
  size_t size;
  size_t position;
  char *message;
  size_t message_size;
  int has_error;
  int has_warning;
} datasan_png_context;

static void datasan_png_set_message(datasan_png_context *context, const char *text) {
  if (context->message == NULL || context->message_size == 0) return;
  snprintf(context->message, context->message_size, "%s", text ? text : "unknown libpng error");
}

static void datasan_png_error_fn(png_structp png, png_const_charp text) {
  datasan_png_context *context = (datasan_png_context *)png_get_error_ptr(png);
  if (context != NULL) {
    datasan_png_set_message(context, text);
    context->has_error = 1;
  }
  png_longjmp(png, 1);
}

static void datasan_png_warning_fn(png_structp png, png_const_charp text) {
  datasan_png_context *context = (datasan_png_context *)png_get_error_ptr(png);
  if (context == NULL || context->has_error || context->has_warning) return;
  datasan_png_set_message(context, text);
  context->has_warning = 1;
}

static void datasan_png_read_fn(png_structp png, png_bytep out, size_t length) {
  datasan_png_context *context = (datasan_png_context *)png_get_io_ptr(png);
  if (context == NULL || length > context->size - context->position) {
    png_error(png, "unexpected end of file (truncated)");
  }
  memcpy(out, context->data + context->position, length);
  context->position += length;
}

/// Channels of the decoded image for an IHDR color type (palette -> RGB; tRNS never adds alpha).
static int datasan_png_channels(int color_type) {
  switch (color_type) {
  case PNG_COLOR_TYPE_GRAY: return 1;
  case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
  case PNG_COLOR_TYPE_PALETTE: return 3;
  case PNG_COLOR_TYPE_RGB: return 3;
  case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
  default: return 0;
  }
}

/// Copies one interleaved row (x, c) into the planes of a C x H x W image.
static void datasan_png_scatter_row(
    const unsigned char *row, unsigned char *out, size_t y, size_t width, size_t height, size_t channels,
    size_t value_size) {
  size_t plane = width * height * value_size;
  for (size_t c = 0; c < channels; c++) {
    unsigned char *dst = out + c * plane + y * width * value_size;
    const unsigned char *src = row + c * value_size;
    if (value_size == 1) {
      for (size_t x = 0; x < width; x++) dst[x] = src[x * channels];
    } else {
      for (size_t x = 0; x < width; x++) memcpy(dst + x * 2, src + x * channels * 2, 2);
    }
  }
}

static void datasan_png_clear(char *message, size_t message_size, datasan_png_header *header) {
  if (message != NULL && message_size > 0) message[0] = 0;
  if (header != NULL) memset(header, 0, sizeof(*header));
}

/// Rejects what libpng does not need to see: empty data, JPEG data, short non-PNG data.
static int datasan_png_precheck(const unsigned char *bytes, size_t size, datasan_png_context *context) {
  if (size == 0) {
    datasan_png_set_message(context, "empty file (0 bytes)");
    return DATASAN_PNG_INVALID;
  }
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    datasan_png_set_message(context, "Not a PNG file (JPEG data)");
    return DATASAN_PNG_INVALID;
  }
  if (size < 8 && png_sig_cmp(bytes, 0, size) != 0) {
    datasan_png_set_message(context, "Not a PNG file");
    return DATASAN_PNG_INVALID;
  }
  return DATASAN_PNG_OK;
}

/// Bytes in the IDAT chunks of a PNG (a chunk cut by the end of the file counts what is there).
static uint64_t datasan_png_idat_bytes(const unsigned char *p, size_t size) {
  uint64_t total = 0;
  size_t at = 8;
  while (size >= 8 && at <= size - 8) {
    uint32_t length = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 | (uint32_t)p[at + 2] << 8 | p[at + 3];
    size_t left = size - at - 8;
    if (memcmp(p + at + 4, "IDAT", 4) == 0) total += length < left ? length : left;
    if (memcmp(p + at + 4, "IEND", 4) == 0 || length > left || left - length < 4) break;
    at += 12 + (size_t)length;
  }
  return total;
}

/// Deflate never expands more than 1032 to 1 (a 258-byte match coded in 2 bits): compressed image
/// data that cannot inflate to the image IHDR declares is refused before anything is allocated or
/// decoded, so that memory and time follow the bytes of the file, not its header. libpng would refuse
/// such a file too ("Not enough image data"), only after allocating and decoding what is there.
static int datasan_png_data_suffices(const unsigned char *p, size_t size, uint32_t width, uint32_t height, int depth,
                                     int color_type, int interlaced, datasan_png_context *context) {
  uint64_t needed = datasan_png_filtered_bytes(width, height, depth, color_type, interlaced);
  if (needed == UINT64_MAX) return 1;
  uint64_t idat = datasan_png_idat_bytes(p, size);
  if (needed <= idat * 1032 + 1032) return 1;
  if (context != NULL && context->message != NULL && context->message_size > 0) {
    snprintf(context->message, context->message_size,
             "Not enough image data: %llu bytes of IDAT cannot inflate to the %u x %u image declared (%llu bytes)",
             (unsigned long long)idat, (unsigned)width, (unsigned)height, (unsigned long long)needed);
  }
  return 0;
}

/// The one function that owns the setjmp: reads the header, and when `out` is given, the pixels.
static int datasan_png_run(
    const void *data, size_t size, uint64_t max_pixels, int channels_first, void *out, size_t out_size,
    datasan_png_header *header, char *message, size_t message_size, int fast) {
  datasan_png_clear(message, message_size, header);
  if (header == NULL || (data == NULL && size > 0)) return DATASAN_PNG_FAILURE;
  datasan_png_context context = {(const unsigned char *)data, size, 0, message, message_size, 0, 0};
  int status = datasan_png_precheck(context.data, size, &context);
  if (status != DATASAN_PNG_OK) return status;

  // The common image without libpng (fast.c); libpng decides everything else.
  size_t image_data_at = 0;
  // An image whose data cannot hold it goes to libpng, which reads the same header and refuses it
  // (below) with the same message.
  if (fast && datasan_png_fast_header(data, size, header, &image_data_at) == DATASAN_PNG_OK &&
      (uint64_t)header->width * header->height <= max_pixels && header->decoded_bytes <= (uint64_t)SIZE_MAX / 2 &&
      datasan_png_data_suffices(context.data, size, header->width, header->height, header->source_bit_depth,
                                header->source_color_type, header->interlaced, NULL)) {
    if (out == NULL && out_size == 0 && channels_first < 0) return DATASAN_PNG_OK;
    if (datasan_png_fast_decode(data, size, header, image_data_at, channels_first, out, out_size) == DATASAN_PNG_OK) {
      return DATASAN_PNG_OK;
    }
  }
  datasan_png_clear(message, message_size, header);

  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, datasan_png_error_fn,
                                           datasan_png_warning_fn);
  if (png == NULL) {
    datasan_png_set_message(&context, "cannot create a libpng read struct");
    return DATASAN_PNG_FAILURE;
  }
  png_infop info = png_create_info_struct(png);
  if (info == NULL) {
    png_destroy_read_struct(&png, NULL, NULL);
    datasan_png_set_message(&context, "cannot create a libpng info struct");
    return DATASAN_PNG_FAILURE;
  }
  unsigned char *volatile scratch = NULL;
  if (setjmp(png_jmpbuf(png))) {
    free(scratch);
    png_destroy_read_struct(&png, &info, NULL);
    return DATASAN_PNG_INVALID;
  }

  png_set_read_fn(png, &context, datasan_png_read_fn);
  // A CRC error in any chunk, critical or ancillary, is an error (the default only warns for ancillary).
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  // Only --max-pixels limits the size (libpng's default refuses sides above 1,000,000).
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  // No chunk can hold more than the file: a tEXt/iTXt/zTXt/iCCP header that declares 2 GB in a
  // 46-byte file made libpng allocate and zero it before it met the end (2-4 s and 2 GB a file,
  // found by the fuzzer). A decompressed ancillary chunk is bounded by the same (generous) limit.
  png_set_chunk_malloc_max(png, size < ((size_t)8 << 20) ? ((size_t)8 << 20) : size);
  // Every ancillary chunk is read as an unknown chunk and dropped, its CRC still checked: datasan
  // applies none of them (SPEC), and libpng's own handlers allocate what a text or profile chunk's
  // header declares before they meet the end of the file (the fuzzer's 46-byte file with an iTXt of
  // 1.2 GB: 2 s and 1.2 GB), where a dropped chunk is only read through in small pieces.
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
  // tRNS too, so that a palette expands to RGB, never RGBA, and gray/RGB keep their channels.
  static const png_byte trns[5] = {'t', 'R', 'N', 'S', 0};
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, trns, 1);

  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
  int channels = datasan_png_channels(color_type);
  if (channels == 0) png_error(png, "unsupported color type");
  int value_size = bit_depth == 16 ? 2 : 1;
  header->width = width;
  header->height = height;
  header->channels = channels;
  header->bit_depth = value_size * 8;
  header->source_bit_depth = bit_depth;
  header->source_color_type = color_type;
  header->interlaced = interlace != PNG_INTERLACE_NONE;

  // Each side is below 2^31 (libpng checks IHDR), so the pixel count fits in 64 bits; the
  // size in bytes is checked for overflow.
  uint64_t pixels = (uint64_t)width * (uint64_t)height;
  uint64_t decoded_bytes = 0;
  if (pixels > max_pixels ||
      __builtin_mul_overflow(pixels, (uint64_t)(channels * value_size), &decoded_bytes) ||
      decoded_bytes > (uint64_t)SIZE_MAX / 2) {
    if (message != NULL && message_size > 0) {
      snprintf(message, message_size, "image of %u x %u = %llu pixels exceeds --max-pixels %llu", (unsigned)width,
               (unsigned)height, (unsigned long long)pixels, (unsigned long long)max_pixels);
    }
    png_destroy_read_struct(&png, &info, NULL);
    return DATASAN_PNG_TOO_LARGE;
  }
  header->decoded_bytes = decoded_bytes;
  if (!datasan_png_data_suffices(context.data, size, width, height, bit_depth, color_type,
                                 interlace != PNG_INTERLACE_NONE, &context)) {
    png_destroy_read_struct(&png, &info, NULL);
    return DATASAN_PNG_INVALID;
  }
  if (out == NULL && out_size == 0 && channels_first < 0) {  // header only
    png_destroy_read_struct(&png, &info, NULL);
    return DATASAN_PNG_OK;
  }
  if (out == NULL || out_size < decoded_bytes) {
    png_destroy_read_struct(&png, &info, NULL);
    return DATASAN_PNG_BUFFER_TOO_SMALL;
  }

  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (bit_depth == 16) png_set_swap(png);
#endif
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);

  size_t row_bytes = (size_t)width * (size_t)channels * (size_t)value_size;
  if (png_get_channels(png, info) != channels || png_get_bit_depth(png, info) != value_size * 8 ||
      png_get_rowbytes(png, info) != row_bytes) {
    png_error(png, "unexpected decoded row layout");
  }
  unsigned char *dst = (unsigned char *)out;
  if (channels == 1 || !channels_first) {
    // Rows land in place; for Adam7 each pass fills in its pixels of the same rows.
    for (int pass = 0; pass < passes; pass++) {
      for (png_uint_32 y = 0; y < height; y++) png_read_row(png, dst + (size_t)y * row_bytes, NULL);
    }
  } else if (passes == 1) {
    scratch = (unsigned char *)malloc(row_bytes);
    if (scratch == NULL) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) {
      png_read_row(png, scratch, NULL);
      datasan_png_scatter_row(scratch, dst, y, width, height, (size_t)channels, (size_t)value_size);
    }
  } else {
    scratch = (unsigned char *)malloc((size_t)decoded_bytes);
    if (scratch == NULL) png_error(png, "out of memory");
    for (int pass = 0; pass < passes; pass++) {
      for (png_uint_32 y = 0; y < height; y++) png_read_row(png, scratch + (size_t)y * row_bytes, NULL);
    }
    for (png_uint_32 y = 0; y < height; y++) {
      datasan_png_scatter_row(scratch + (size_t)y * row_bytes, dst, y, width, height, (size_t)channels,
                              (size_t)value_size);
    }
  }
  // The chunks after the image data (tEXt, IEND) are read too: their CRCs count, and a
  // file cut after its last IDAT is truncated.
  png_read_end(png, info);
  free(scratch);
  scratch = NULL;
  png_destroy_read_struct(&png, &info, NULL);
  return DATASAN_PNG_OK;
}

int datasan_png_read_header(
    const void *data, size_t size, uint64_t max_pixels, datasan_png_header *header, char *message,
    size_t message_size) {
  return datasan_png_run(data, size, max_pixels, -1, NULL, 0, header, message, message_size, 1);
}

int datasan_png_decode(
    const void *data, size_t size, uint64_t max_pixels, int channels_first, void *out, size_t out_size,
    datasan_png_header *header, char *message, size_t message_size) {
  return datasan_png_run(data, size, max_pixels, channels_first ? 1 : 0, out, out_size, header, message,
                         message_size, 1);
}

int datasan_png_decode_libpng(
    const void *data, size_t size, uint64_t max_pixels, int channels_first, void *out, size_t out_size,
    datasan_png_header *header, char *message, size_t message_size) {
  return datasan_png_run(data, size, max_pixels, channels_first ? 1 : 0, out, out_size, header, message,
                         message_size, 0);
}

int datasan_png_fast_path_decodes(
    const void *data, size_t size, int channels_first, void *out, size_t out_size, datasan_png_header *header) {
  size_t image_data_at = 0;
  return datasan_png_fast_header(data, size, header, &image_data_at) == DATASAN_PNG_OK &&
         datasan_png_fast_decode(data, size, header, image_data_at, channels_first, out, out_size) == DATASAN_PNG_OK;
}
