#ifndef CDATASAN_PNG_FAST_H
#define CDATASAN_PNG_FAST_H

// The libpng-free fast path for common PNGs (fast.c). Internal to CDatasanPNG: shim.c tries it
// first and falls back to libpng whenever it declines.

#include "CDatasanPNG.h"

/// The fast path does not take this image: decode it with libpng.
#define DATASAN_PNG_FAST_DECLINED (-1)

/// Reads signature and IHDR (CRC checked), and the chunks up to the first IDAT (CRCs checked), as
/// libpng does for the header. DATASAN_PNG_OK, *header filled and *image_data_at the offset of the
/// first IDAT chunk, for an image the fast path decodes (gray of 1 to 16 bits, gray+alpha, RGB, RGBA
/// of 8 or 16 bits, palette of 1 to 8 bits with one PLTE; interlaced or not); else DECLINED.
int datasan_png_fast_header(const void *data, size_t size, datasan_png_header *header, size_t *image_data_at);

/// Decodes the image whose header datasan_png_fast_header read, from its first IDAT chunk on, like
/// datasan_png_decode does; or DECLINED (see fast.c for when).
int datasan_png_fast_decode(const void *data, size_t size, const datasan_png_header *header, size_t image_data_at,
                            int channels_first, void *out, size_t out_size);

/// Bytes of filtered image data (each row of each pass: a filter type byte, then the row) of an
/// image as IHDR declares it; UINT64_MAX for a bit depth / color type PNG does not allow, or a size
/// beyond 64 bits.
uint64_t datasan_png_filtered_bytes(uint32_t width, uint32_t height, int depth, int color_type, int interlaced);

#endif
