#ifndef CDATASAN_JPEG_H
#define CDATASAN_JPEG_H

// The JPEG decoding shim of datasan, over libjpeg-turbo's TurboJPEG API (errors are return codes,
// no longjmp reaches Swift). Swift sees plain functions: bytes in memory, a caller-owned output
// buffer, a status code and libjpeg's message in a caller-owned text buffer. Each thread keeps
// one TurboJPEG handle (freed when the thread ends).

#include <stddef.h>
#include <stdint.h>

/// Status codes of the datasan_jpeg_* functions (the same values as DATASAN_PNG_*).
enum {
  /// Success.
  DATASAN_JPEG_OK = 0,
  /// The bytes are not a valid JPEG, or libjpeg warned while decoding (libjpeg's message).
  DATASAN_JPEG_INVALID = 1,
  /// The declared width x height exceeds max_pixels (refused before any pixel allocation).
  DATASAN_JPEG_TOO_LARGE = 2,
  /// The output buffer is smaller than header->decoded_bytes (header is filled in).
  DATASAN_JPEG_BUFFER_TOO_SMALL = 3,
  /// Out of memory or a bad argument.
  DATASAN_JPEG_FAILURE = 4,
};

/// What a JPEG decodes to, read from its header (SOF and the markers before it).
typedef struct datasan_jpeg_header {
  /// Width and height in pixels.
  uint32_t width;
  uint32_t height;
  /// Channels of the decoded image: 1 gray, 3 RGB (colour, and CMYK / YCCK converted to RGB).
  int32_t channels;
  /// The stored colour space: TurboJPEG's TJCS_RGB, TJCS_YCbCr, TJCS_GRAY, TJCS_CMYK, TJCS_YCCK.
  int32_t colorspace;
  /// The chroma subsampling: TurboJPEG's TJSAMP_* (TJSAMP_444, TJSAMP_420, ...; -1 unknown).
  int32_t subsampling;
  /// 1 when the stored image is CMYK, 2 when YCCK (both decoded to RGB as Pillow's convert("RGB") does).
  int32_t cmyk;
  /// width * height * channels: the size of the decoded values in bytes.
  uint64_t decoded_bytes;
} datasan_jpeg_header;

/// Reads the header of the JPEG in data[0..<size] (no pixel decoded, no pixel memory allocated).
///
/// Returns DATASAN_JPEG_OK and fills *header, DATASAN_JPEG_TOO_LARGE (header filled in) when
/// width x height exceeds max_pixels, or DATASAN_JPEG_INVALID with libjpeg's reason in message
/// (always NUL-terminated when message_size > 0). Nothing is printed.
int datasan_jpeg_read_header(
    const void *data, size_t size, uint64_t max_pixels, datasan_jpeg_header *header,
    char *message, size_t message_size);

/// Decodes the JPEG in data[0..<size] into out[0..<header->decoded_bytes], 8-bit values laid out
/// C x H x W when channels_first is nonzero, else H x W x C.
///
/// Strict: any libjpeg warning (a truncated file, corrupt entropy data, extraneous bytes) stops the
/// decode (TJFLAG_STOPONWARNING) and is DATASAN_JPEG_INVALID with libjpeg's message. The default
/// accurate integer IDCT and fancy upsampling, as Pillow and torchvision decode. Gray decodes to 1
/// channel, YCbCr / RGB to 3 (RGB order), CMYK / YCCK to 3 as Pillow's convert("RGB") computes them
/// (Pillow reads a JPEG's CMYK inverted, as Adobe writes it): R = K - K * (255 - C) / 255 with
/// Pillow's rounding, C and K being the values libjpeg decodes (YCCK converted to CMYK by libjpeg). An image of more than max_pixels pixels is refused (DATASAN_JPEG_TOO_LARGE)
/// before any pixel memory exists.
int datasan_jpeg_decode(
    const void *data, size_t size, uint64_t max_pixels, int channels_first, void *out, size_t out_size,
    datasan_jpeg_header *header, char *message, size_t message_size);

#endif
