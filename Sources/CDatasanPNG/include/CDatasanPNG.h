#ifndef CDATASAN_PNG_H
#define CDATASAN_PNG_H

// The PNG decoding shim of datasan. libpng's classic API reports errors with longjmp, which
// Swift cannot survive, so every libpng call lives in one C function that owns the setjmp
// (shim.c). Swift sees only these plain functions: bytes in memory, a caller-owned output
// buffer, a status code and libpng's message in a caller-owned text buffer.

#include <stddef.h>
#include <stdint.h>

/// Status codes of the datasan_png_* functions.
enum {
  /// Success.
  DATASAN_PNG_OK = 0,
  /// The bytes are not a valid PNG (libpng's reason is in the message buffer).
  DATASAN_PNG_INVALID = 1,
  /// The declared width x height exceeds max_pixels (refused before any pixel allocation).
  DATASAN_PNG_TOO_LARGE = 2,
  /// The output buffer is smaller than header->decoded_bytes (header is filled in).
  DATASAN_PNG_BUFFER_TOO_SMALL = 3,
  /// Out of memory or a bad argument.
  DATASAN_PNG_FAILURE = 4,
};

/// What a PNG decodes to, read from its header.
typedef struct datasan_png_header {
  /// Width and height in pixels.
  uint32_t width;
  uint32_t height;
  /// Channels of the decoded image: 1 gray, 2 gray+alpha, 3 RGB (also palette), 4 RGBA.
  int32_t channels;
  /// Bits per decoded value: 8 or 16 (gray of 1/2/4 bits and palettes decode to 8).
  int32_t bit_depth;
  /// Bit depth and color type as stored in IHDR.
  int32_t source_bit_depth;
  int32_t source_color_type;
  /// 1 when the image is Adam7-interlaced.
  int32_t interlaced;
  /// width * height * channels * bit_depth / 8: the size of the decoded values.
  uint64_t decoded_bytes;
} datasan_png_header;

/// Reads the header (all chunks before the first IDAT) of the PNG in data[0..<size].
///
/// Returns DATASAN_PNG_OK and fills *header, or an error status with the reason in
/// message (always NUL-terminated when message_size > 0). Nothing is printed.
int datasan_png_read_header(
    const void *data, size_t size, uint64_t max_pixels, datasan_png_header *header,
    char *message, size_t message_size);

/// Decodes the PNG in data[0..<size] into out[0..<header->decoded_bytes].
///
/// Values are 8-bit, or 16-bit in native byte order; laid out C x H x W when channels_first
/// is nonzero, else H x W x C. Palettes are expanded to RGB (tRNS is not applied), gray of
/// 1/2/4 bits is scaled to 8 bits, gamma and sBIT are ignored, Adam7 is de-interlaced.
/// A CRC error in any chunk and a truncated file are errors. An image of more than
/// max_pixels pixels is refused (DATASAN_PNG_TOO_LARGE) before any pixel memory exists.
///
/// On success message holds the first libpng warning (or is empty); on failure, the reason.
/// *header is filled in whenever the header could be read (also for BUFFER_TOO_SMALL).
int datasan_png_decode(
    const void *data, size_t size, uint64_t max_pixels, int channels_first, void *out, size_t out_size,
    datasan_png_header *header, char *message, size_t message_size);

/// datasan_png_decode without the fast path: libpng decodes every image. The tests hold the fast
/// path to exactly what this returns.
int datasan_png_decode_libpng(
    const void *data, size_t size, uint64_t max_pixels, int channels_first, void *out, size_t out_size,
    datasan_png_header *header, char *message, size_t message_size);

/// The fast path alone (fast.c): 1 when it decoded the image (same bytes and header as
/// datasan_png_decode), 0 when it declined it (libpng then decides). No size limit is applied.
int datasan_png_fast_path_decodes(
    const void *data, size_t size, int channels_first, void *out, size_t out_size, datasan_png_header *header);

/// Encodes width x height 8-bit pixels of `channels` (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), row by
/// row (H x W x C), as a PNG through libpng (encode.c). On DATASAN_PNG_OK *out holds *out_size bytes,
/// to be released with datasan_png_free; on failure *out is NULL and message says why.
int datasan_png_encode(
    const uint8_t *pixels, uint32_t width, uint32_t height, int channels, uint8_t **out, size_t *out_size,
    char *message, size_t message_size);

/// Releases the bytes of datasan_png_encode.
void datasan_png_free(void *bytes);

#endif
