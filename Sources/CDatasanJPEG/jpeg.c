// datasan's JPEG decoding over TurboJPEG (libjpeg-turbo): see include/CDatasanJPEG.h.

#include "CDatasanJPEG.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// A new decompressor for every call: libjpeg keeps the quantization tables of the last image in a
// decompressor, so a reused one would decode a JPEG without DQT with another file's tables (the
// result would depend on what the thread decoded before; found by the jpeg fuzz target), and
// TurboJPEG 2.1 leaves a decompressor whose header read failed in a state where the next header read
// misparses. Each thread keeps only a scratch buffer for the channel-first and CMYK paths (kept
// while small, freed when the thread ends).
typedef struct thread_state {
  tjhandle handle;
  unsigned char *scratch;
  size_t scratch_size;
} thread_state;

enum { SCRATCH_KEEP = 4 << 20 };

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void destroy_state(void *p) {
  thread_state *s = p;
  if (s->handle) tjDestroy(s->handle);
  free(s->scratch);
  free(s);
}

static void make_key(void) { pthread_key_create(&state_key, destroy_state); }

// The thread's state with a new decompressor (the caller ends it with finish()).
static thread_state *state(void) {
  pthread_once(&state_once, make_key);
  thread_state *s = pthread_getspecific(state_key);
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_setspecific(state_key, s);
  }
  if (s->handle) tjDestroy(s->handle);
  s->handle = tjInitDecompress();
  return s->handle ? s : NULL;
}

// Destroys the call's decompressor.
static int finish(thread_state *s, int status) {
  if (s->handle) tjDestroy(s->handle);
  s->handle = NULL;
  return status;
}

static void set_message(char *message, size_t size, const char *text) {
  if (size == 0) return;
  snprintf(message, size, "%s", text ? text : "");
}

// libjpeg's message for the last failure of the call's decompressor.
static void error_message(thread_state *s, char *message, size_t size) {
  set_message(message, size, tjGetErrorStr2(s->handle));
}

// Reads the header into *header; DATASAN_JPEG_OK, _TOO_LARGE (header filled) or _INVALID.
static int read_header(
    thread_state *s, const void *data, size_t size, uint64_t max_pixels, datasan_jpeg_header *header,
    char *message, size_t message_size) {
  memset(header, 0, sizeof *header);
  if (size == 0) {
    set_message(message, message_size, "empty file");
    return DATASAN_JPEG_INVALID;
  }
  int width = 0, height = 0, subsamp = -1, colorspace = -1;
  if (tjDecompressHeader3(s->handle, data, (unsigned long)size, &width, &height, &subsamp, &colorspace) != 0) {
    error_message(s, message, message_size);
    return DATASAN_JPEG_INVALID;
  }
  if (width <= 0 || height <= 0) {
    set_message(message, message_size, "no image: the JPEG ends before a frame header (SOF)");
    return DATASAN_JPEG_INVALID;
  }
  header->width = (uint32_t)width;
  header->height = (uint32_t)height;
  header->colorspace = colorspace;
  header->subsampling = subsamp;
  header->cmyk = colorspace == TJCS_CMYK ? 1 : colorspace == TJCS_YCCK ? 2 : 0;
  header->channels = colorspace == TJCS_GRAY ? 1 : 3;
  header->decoded_bytes = (uint64_t)width * (uint64_t)height * (uint64_t)header->channels;
  if ((uint64_t)width * (uint64_t)height > max_pixels) {
    if (message_size > 0) {
      snprintf(message, message_size, "image of %d x %d = %llu pixels exceeds --max-pixels %llu", width, height,
               (unsigned long long)width * (unsigned long long)height, (unsigned long long)max_pixels);
    }
    return DATASAN_JPEG_TOO_LARGE;
  }
  set_message(message, message_size, "");
  return DATASAN_JPEG_OK;
}

int datasan_jpeg_read_header(
    const void *data, size_t size, uint64_t max_pixels, datasan_jpeg_header *header, char *message,
    size_t message_size) {
  thread_state *s = state();
  if (!s) {
    set_message(message, message_size, "cannot initialize the JPEG decompressor (out of memory)");
    return DATASAN_JPEG_FAILURE;
  }
  return finish(s, read_header(s, data, size, max_pixels, header, message, message_size));
}

static unsigned char *scratch(thread_state *s, size_t size) {
  if (s->scratch_size >= size) return s->scratch;
  free(s->scratch);
  s->scratch = malloc(size);
  s->scratch_size = s->scratch ? size : 0;
  return s->scratch;
}

static void release_scratch(thread_state *s) {
  if (s->scratch_size > SCRATCH_KEEP) {
    free(s->scratch);
    s->scratch = NULL;
    s->scratch_size = 0;
  }
}

// Pillow's MULDIV255: a * b / 255, rounded its way.
static inline unsigned muldiv255(unsigned a, unsigned b) {
  unsigned t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

// Pillow's cmyk2rgb on its inverted CMYK (Pillow reads JPEG CMYK as "CMYK;I"): with c, k as libjpeg
// decodes them, Pillow's C = 255 - c and 255 - K = k, so R = k - k * (255 - c) / 255.
static inline unsigned char cmyk_channel(unsigned c, unsigned k) { return (unsigned char)(k - muldiv255(255 - c, k)); }

#if defined(__x86_64__)
/* Interleaved RGB (3 bytes a pixel) to three planes, 16 pixels a step with SSSE3 byte shuffles. */
__attribute__((target("ssse3"))) static void rgb_to_planes_ssse3(
    const unsigned char *src, unsigned char *r, unsigned char *g, unsigned char *b, size_t pixels, size_t *done) {
  const __m128i r0 = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128);
  const __m128i r1 = _mm_setr_epi8(-128, -128, -128, -128, -128, -128, 2, 5, 8, 11, 14, -128, -128, -128, -128, -128);
  const __m128i r2 = _mm_setr_epi8(-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, 1, 4, 7, 10, 13);
  const __m128i g0 = _mm_setr_epi8(1, 4, 7, 10, 13, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128);
  const __m128i g1 = _mm_setr_epi8(-128, -128, -128, -128, -128, 0, 3, 6, 9, 12, 15, -128, -128, -128, -128, -128);
  const __m128i g2 = _mm_setr_epi8(-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, 2, 5, 8, 11, 14);
  const __m128i b0 = _mm_setr_epi8(2, 5, 8, 11, 14, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128);
  const __m128i b1 = _mm_setr_epi8(-128, -128, -128, -128, -128, 1, 4, 7, 10, 13, -128, -128, -128, -128, -128, -128);
  const __m128i b2 = _mm_setr_epi8(-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, 0, 3, 6, 9, 12, 15);
  size_t i = 0;
  for (; i + 16 <= pixels; i += 16) {
    const __m128i a0 = _mm_loadu_si128((const __m128i *)(src + 3 * i));
    const __m128i a1 = _mm_loadu_si128((const __m128i *)(src + 3 * i + 16));
    const __m128i a2 = _mm_loadu_si128((const __m128i *)(src + 3 * i + 32));
    _mm_storeu_si128((__m128i *)(r + i),
                     _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a0, r0), _mm_shuffle_epi8(a1, r1)), _mm_shuffle_epi8(a2, r2)));
    _mm_storeu_si128((__m128i *)(g + i),
                     _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a0, g0), _mm_shuffle_epi8(a1, g1)), _mm_shuffle_epi8(a2, g2)));
    _mm_storeu_si128((__m128i *)(b + i),
                     _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a0, b0), _mm_shuffle_epi8(a1, b1)), _mm_shuffle_epi8(a2, b2)));
  }
  *done = i;
}
#endif

/* Interleaved RGB to three planes: the SSSE3 loop where the CPU has it, then the rest one by one. */
static void rgb_to_planes(const unsigned char *src, unsigned char *r, unsigned char *g, unsigned char *b, size_t pixels) {
  size_t i = 0;
#if defined(__x86_64__)
  if (__builtin_cpu_supports("ssse3")) rgb_to_planes_ssse3(src, r, g, b, pixels, &i);
#endif
  for (; i < pixels; i++) {
    r[i] = src[3 * i];
    g[i] = src[3 * i + 1];
    b[i] = src[3 * i + 2];
  }
}

int datasan_jpeg_decode(
    const void *data, size_t size, uint64_t max_pixels, int channels_first, void *out, size_t out_size,
    datasan_jpeg_header *header, char *message, size_t message_size) {
  thread_state *s = state();
  if (!s) {
    set_message(message, message_size, "cannot initialize the JPEG decompressor (out of memory)");
    return DATASAN_JPEG_FAILURE;
  }
  int status = read_header(s, data, size, max_pixels, header, message, message_size);
  if (status != DATASAN_JPEG_OK) return finish(s, status);
  if (out_size < header->decoded_bytes) {
    set_message(message, message_size, "output buffer too small");
    return finish(s, DATASAN_JPEG_BUFFER_TOO_SMALL);
  }
  const int width = (int)header->width, height = (int)header->height;
  const size_t pixels = (size_t)width * (size_t)height;
  const int flags = TJFLAG_STOPONWARNING;  // accurate IDCT, fancy upsampling: TurboJPEG's defaults
  unsigned char *dest = out;

  if (!header->cmyk && (header->channels == 1 || !channels_first)) {
    // Gray, or H x W x C: libjpeg's own interleaved output, straight into the caller's buffer.
    int format = header->channels == 1 ? TJPF_GRAY : TJPF_RGB;
    if (tjDecompress2(s->handle, data, (unsigned long)size, dest, width, 0, height, format, flags) != 0) {
      error_message(s, message, message_size);
      return finish(s, DATASAN_JPEG_INVALID);
    }
    return finish(s, DATASAN_JPEG_OK);
  }

  // Through scratch memory: RGB to planes, or CMYK to RGB.
  const int in_channels = header->cmyk ? 4 : 3;
  unsigned char *tmp = scratch(s, pixels * (size_t)in_channels);
  if (!tmp) {
    set_message(message, message_size, "out of memory");
    return finish(s, DATASAN_JPEG_FAILURE);
  }
  int format = header->cmyk ? TJPF_CMYK : TJPF_RGB;
  if (tjDecompress2(s->handle, data, (unsigned long)size, tmp, width, 0, height, format, flags) != 0) {
    error_message(s, message, message_size);
    release_scratch(s);
    return finish(s, DATASAN_JPEG_INVALID);
  }
  if (header->cmyk) {
    if (channels_first) {
      unsigned char *r = dest, *g = dest + pixels, *b = dest + 2 * pixels;
      for (size_t i = 0; i < pixels; i++) {
        const unsigned char *p = tmp + 4 * i;
        r[i] = cmyk_channel(p[0], p[3]);
        g[i] = cmyk_channel(p[1], p[3]);
        b[i] = cmyk_channel(p[2], p[3]);
      }
    } else {
      for (size_t i = 0; i < pixels; i++) {
        const unsigned char *p = tmp + 4 * i;
        dest[3 * i] = cmyk_channel(p[0], p[3]);
        dest[3 * i + 1] = cmyk_channel(p[1], p[3]);
        dest[3 * i + 2] = cmyk_channel(p[2], p[3]);
      }
    }
  } else {
    rgb_to_planes(tmp, dest, dest + pixels, dest + 2 * pixels, pixels);
  }
  release_scratch(s);
  return finish(s, DATASAN_JPEG_OK);
}
