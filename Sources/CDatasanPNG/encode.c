// PNG encoding through libpng (the HTML report's thumbnails). Like decoding (shim.c), every
// libpng call lives in the one function that owns the setjmp, so a longjmp never crosses Swift.

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "CDatasanPNG.h"

typedef struct datasan_png_sink {
  unsigned char *bytes;
  size_t size;
  size_t capacity;
  int failed;
  char *message;
  size_t message_size;
} datasan_png_sink;

static void datasan_png_sink_message(datasan_png_sink *sink, const char *text) {
  if (sink->message_size == 0) return;
  strncpy(sink->message, text, sink->message_size - 1);
  sink->message[sink->message_size - 1] = 0;
}

static void datasan_png_encode_error_fn(png_structp png, png_const_charp text) {
  datasan_png_sink_message((datasan_png_sink *)png_get_error_ptr(png), text);
  png_longjmp(png, 1);
}

static void datasan_png_encode_warning_fn(png_structp png, png_const_charp text) {
  (void)png;
  (void)text;
}

static void datasan_png_write_fn(png_structp png, png_bytep data, size_t length) {
  datasan_png_sink *sink = (datasan_png_sink *)png_get_io_ptr(png);
  if (sink->size + length > sink->capacity) {
    size_t capacity = sink->capacity ? sink->capacity : 4096;
    while (capacity < sink->size + length) capacity *= 2;
    unsigned char *grown = realloc(sink->bytes, capacity);
    if (!grown) png_error(png, "out of memory");
    sink->bytes = grown;
    sink->capacity = capacity;
  }
  memcpy(sink->bytes + sink->size, data, length);
  sink->size += length;
}

static void datasan_png_flush_fn(png_structp png) { (void)png; }

int datasan_png_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int channels, uint8_t **out, size_t *out_size,
    char *message, size_t message_size) {
  *out = NULL;
  *out_size = 0;
  if (message_size > 0) message[0] = 0;
  int color_type;
  switch (channels) {
    case 1: color_type = PNG_COLOR_TYPE_GRAY; break;
    case 2: color_type = PNG_COLOR_TYPE_GRAY_ALPHA; break;
    case 3: color_type = PNG_COLOR_TYPE_RGB; break;
    case 4: color_type = PNG_COLOR_TYPE_RGB_ALPHA; break;
    default: return DATASAN_PNG_FAILURE;
  }
  if (width == 0 || height == 0) return DATASAN_PNG_FAILURE;
  datasan_png_sink sink = {NULL, 0, 0, 0, message, message_size};
  png_structp png = png_create_write_struct(
      PNG_LIBPNG_VER_STRING, &sink, datasan_png_encode_error_fn, datasan_png_encode_warning_fn);
  if (!png) return DATASAN_PNG_FAILURE;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    return DATASAN_PNG_FAILURE;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    free(sink.bytes);
    return DATASAN_PNG_FAILURE;
  }
  png_set_write_fn(png, &sink, datasan_png_write_fn, datasan_png_flush_fn);
  png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  size_t stride = (size_t)width * (size_t)channels;
  for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  *out = sink.bytes;
  *out_size = sink.size;
  return DATASAN_PNG_OK;
}

void datasan_png_free(void *bytes) { free(bytes); }
