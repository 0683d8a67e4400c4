#ifndef DATASAN_CCOMPRESSION_SHIM_H
#define DATASAN_CCOMPRESSION_SHIM_H

/* zlib, libbz2, liblzma and libzstd (Debian's zlib1g-dev libbz2-dev liblzma-dev libzstd-dev), behind
 * one streaming interface: a decoder that turns a compressed stream into its bytes block by block
 * and an encoder that does the reverse. Memory is fixed per stream: gzip 32 KiB of window, bzip2
 * its 900 KB blocks, xz at most DATASAN_XZ_MEMLIMIT (a header asking for more is refused), zstd
 * a window of at most 2^27 bytes (libzstd's default limit, set explicitly): a header never sizes
 * memory. Concatenated members (gzip, bzip2, xz streams, zstd frames) are read one after another,
 * as Python's gzip / bz2 / lzma modules and the command-line tools read them. */

#include <bzlib.h>
#include <lzma.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

enum { DATASAN_NONE = 0, DATASAN_GZIP = 1, DATASAN_BZIP2 = 2, DATASAN_XZ = 3, DATASAN_ZSTD = 4 };
#define DATASAN_XZ_MEMLIMIT ((uint64_t)128 << 20)

/* The compression of a stream that starts with p[0..<n] (its magic bytes), or DATASAN_NONE. */
static inline int datasan_compression_of(const uint8_t *p, size_t n) {
  if (n >= 2 && p[0] == 0x1F && p[1] == 0x8B) return DATASAN_GZIP;
  if (n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9') return DATASAN_BZIP2;
  if (n >= 6 && p[0] == 0xFD && p[1] == '7' && p[2] == 'z' && p[3] == 'X' && p[4] == 'Z' && p[5] == 0) return DATASAN_XZ;
  if (n >= 4 && p[0] == 0x28 && p[1] == 0xB5 && p[2] == 0x2F && p[3] == 0xFD) return DATASAN_ZSTD;
  return DATASAN_NONE;
}

static inline const char *datasan_compression_name(int kind) {
  switch (kind) {
  case DATASAN_GZIP: return "gzip";
  case DATASAN_BZIP2: return "bzip2";
  case DATASAN_XZ: return "xz";
  case DATASAN_ZSTD: return "zstd";
  default: return "none";
  }
}

typedef struct datasan_codec {
  int kind;
  int encode;
  /* Decoding: 1 inside a member, 0 at a boundary (before the first member or after one ended);
   * 2: bzip2 trailing data that is not a stream, ignored as Python's bz2 ignores it. */
  int inside;
  int live; /* the library's stream is initialized */
  uint64_t members; /* members decoded completely */
  z_stream z;
  bz_stream bz;
  lzma_stream xz;
  ZSTD_DStream *zd;
  ZSTD_CStream *zc;
  char message[200];
} datasan_codec;

static inline void datasan_codec_end(datasan_codec *c) {
  if (!c->live) return;
  switch (c->kind) {
  case DATASAN_GZIP: if (c->encode) deflateEnd(&c->z); else inflateEnd(&c->z); break;
  case DATASAN_BZIP2: if (c->encode) BZ2_bzCompressEnd(&c->bz); else BZ2_bzDecompressEnd(&c->bz); break;
  case DATASAN_XZ: lzma_end(&c->xz); break;
  default: break;
  }
  c->live = 0;
}

static inline int datasan_codec_begin(datasan_codec *c) {
  int ok = 0;
  switch (c->kind) {
  case DATASAN_GZIP:
    memset(&c->z, 0, sizeof c->z);
    /* 15 + 16: gzip wrapper only; CRC-32 and length checked at the end of each member. */
    ok = c->encode ? deflateInit2(&c->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK
                   : inflateInit2(&c->z, 15 + 16) == Z_OK;
    break;
  case DATASAN_BZIP2:
    memset(&c->bz, 0, sizeof c->bz);
    ok = c->encode ? BZ2_bzCompressInit(&c->bz, 9, 0, 0) == BZ_OK : BZ2_bzDecompressInit(&c->bz, 0, 0) == BZ_OK;
    break;
  case DATASAN_XZ: {
    lzma_stream init = LZMA_STREAM_INIT;
    c->xz = init;
    ok = c->encode ? lzma_easy_encoder(&c->xz, 6, LZMA_CHECK_CRC64) == LZMA_OK
                   : lzma_stream_decoder(&c->xz, DATASAN_XZ_MEMLIMIT, LZMA_CONCATENATED) == LZMA_OK;
    break;
  }
  case DATASAN_ZSTD:
    if (c->encode) {
      if (!c->zc) c->zc = ZSTD_createCStream();
      ok = c->zc && !ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, 3));
    } else {
      if (!c->zd) c->zd = ZSTD_createDStream();
      ok = c->zd && !ZSTD_isError(ZSTD_DCtx_setParameter(c->zd, ZSTD_d_windowLogMax, 27));
    }
    break;
  default: break;
  }
  if (!ok) {
    snprintf(c->message, sizeof c->message, "cannot start the %s %s", datasan_compression_name(c->kind),
             c->encode ? "compressor" : "decompressor");
    return -1;
  }
  c->live = 1;
  return 0;
}

/* A decoder (encode = 0) or encoder (encode = 1) of `kind`; NULL when it cannot start (message lost:
 * only memory can fail). */
static inline datasan_codec *datasan_codec_new(int kind, int encode) {
  datasan_codec *c = (datasan_codec *)calloc(1, sizeof *c);
  if (!c) return NULL;
  c->kind = kind;
  c->encode = encode;
  if (datasan_codec_begin(c) != 0) {
    if (c->zd) ZSTD_freeDStream(c->zd);
    if (c->zc) ZSTD_freeCStream(c->zc);
    free(c);
    return NULL;
  }
  return c;
}

static inline void datasan_codec_free(datasan_codec *c) {
  if (!c) return;
  datasan_codec_end(c);
  if (c->zd) ZSTD_freeDStream(c->zd);
  if (c->zc) ZSTD_freeCStream(c->zc);
  free(c);
}

static inline const char *datasan_codec_message(const datasan_codec *c) { return c->message; }

static inline const char *datasan_xz_error(lzma_ret r) {
  switch (r) {
  case LZMA_MEM_ERROR: return "out of memory";
  case LZMA_MEMLIMIT_ERROR: return "needs more memory than datasan's 128 MiB limit for xz (a dictionary that large)";
  case LZMA_FORMAT_ERROR: return "not an xz stream (bad header magic)";
  case LZMA_OPTIONS_ERROR: return "unsupported xz options";
  case LZMA_DATA_ERROR: return "corrupt data";
  case LZMA_BUF_ERROR: return "truncated (the stream ends before its end)";
  case LZMA_UNSUPPORTED_CHECK: return "unsupported integrity check";
  default: return "liblzma error";
  }
}

/*
 * Decodes in[0..<in_len] into out[0..<out_cap]: sets *consumed and *produced. `at_eof`: `in` holds
 * the last bytes of the stream. Returns 1 when the stream ended cleanly (at_eof, every byte consumed
 * and every member complete, nothing more to produce), -1 on an error (datasan_codec_message: the
 * library's reason, or "truncated ..."), 0 otherwise (call again with more input or more room).
 */
static inline int datasan_decode(datasan_codec *c, const uint8_t *in, size_t in_len, int at_eof, size_t *consumed,
                                 uint8_t *out, size_t out_cap, size_t *produced) {
  size_t used = 0, made = 0;
  int result = 0;
  while (made < out_cap) {
    if (c->inside == 2) { used = in_len; break; } /* bzip2 trailing data: ignored */
    if (!c->inside) {
      if (c->kind == DATASAN_GZIP) { /* zero padding between gzip members is allowed (Python's gzip) */
        while (used < in_len && in[used] == 0) used++;
      }
      if (used == in_len) break; /* nothing more in this call */
      if (c->kind == DATASAN_BZIP2 && in[used] != 'B') { c->inside = 2; continue; }
      if (c->kind == DATASAN_GZIP || c->kind == DATASAN_BZIP2) {
        datasan_codec_end(c);
        if (datasan_codec_begin(c) != 0) return -1;
      }
      c->inside = 1;
    }
    size_t before_in = used, before_out = made;
    int ended = 0;
    switch (c->kind) {
    case DATASAN_GZIP: {
      c->z.next_in = (Bytef *)(in + used);
      c->z.avail_in = (uInt)((in_len - used) > 0x40000000 ? 0x40000000 : (in_len - used));
      c->z.next_out = out + made;
      c->z.avail_out = (uInt)((out_cap - made) > 0x40000000 ? 0x40000000 : (out_cap - made));
      uInt ai = c->z.avail_in, ao = c->z.avail_out;
      int r = inflate(&c->z, Z_NO_FLUSH);
      used += ai - c->z.avail_in;
      made += ao - c->z.avail_out;
      if (r == Z_STREAM_END) ended = 1;
      else if (r != Z_OK && r != Z_BUF_ERROR) {
        snprintf(c->message, sizeof c->message, "corrupt gzip stream: %s",
                 c->z.msg ? c->z.msg : (r == Z_MEM_ERROR ? "out of memory" : "zlib error"));
        return -1;
      }
      break;
    }
    case DATASAN_BZIP2: {
      c->bz.next_in = (char *)(in + used);
      c->bz.avail_in = (unsigned)((in_len - used) > 0x40000000 ? 0x40000000 : (in_len - used));
      c->bz.next_out = (char *)(out + made);
      c->bz.avail_out = (unsigned)((out_cap - made) > 0x40000000 ? 0x40000000 : (out_cap - made));
      unsigned ai = c->bz.avail_in, ao = c->bz.avail_out;
      int r = BZ2_bzDecompress(&c->bz);
      used += ai - c->bz.avail_in;
      made += ao - c->bz.avail_out;
      if (r == BZ_STREAM_END) ended = 1;
      else if (r == BZ_DATA_ERROR_MAGIC && c->members > 0) { c->inside = 2; continue; } /* trailing data */
      else if (r != BZ_OK) {
        snprintf(c->message, sizeof c->message, "corrupt bzip2 stream: %s",
                 r == BZ_DATA_ERROR ? "data integrity error (CRC or block)" :
                 r == BZ_DATA_ERROR_MAGIC ? "bad magic" : r == BZ_MEM_ERROR ? "out of memory" : "libbz2 error");
        return -1;
      }
      break;
    }
    case DATASAN_XZ: {
      c->xz.next_in = in + used;
      c->xz.avail_in = in_len - used;
      c->xz.next_out = out + made;
      c->xz.avail_out = out_cap - made;
      size_t ai = c->xz.avail_in, ao = c->xz.avail_out;
      lzma_ret r = lzma_code(&c->xz, at_eof ? LZMA_FINISH : LZMA_RUN);
      used += ai - c->xz.avail_in;
      made += ao - c->xz.avail_out;
      if (r == LZMA_STREAM_END) { *consumed = used; *produced = made; return 1; }
      if (r == LZMA_BUF_ERROR && at_eof && used == in_len && made < out_cap) {
        snprintf(c->message, sizeof c->message, "the xz stream is truncated (the file ends inside it)");
        return -1;
      }
      if (r == LZMA_MEMLIMIT_ERROR) {
        snprintf(c->message, sizeof c->message,
                 "the xz stream needs %llu MiB of memory to decompress (its dictionary), more than datasan's limit of %llu MiB",
                 (unsigned long long)(lzma_memusage(&c->xz) >> 20), (unsigned long long)(DATASAN_XZ_MEMLIMIT >> 20));
        return -1;
      }
      if (r != LZMA_OK && r != LZMA_BUF_ERROR) {
        snprintf(c->message, sizeof c->message, "corrupt xz stream: %s", datasan_xz_error(r));
        return -1;
      }
      break;
    }
    case DATASAN_ZSTD: {
      ZSTD_inBuffer ib = {in + used, in_len - used, 0};
      ZSTD_outBuffer ob = {out + made, out_cap - made, 0};
      size_t r = ZSTD_decompressStream(c->zd, &ob, &ib);
      used += ib.pos;
      made += ob.pos;
      if (ZSTD_isError(r) && ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
        snprintf(c->message, sizeof c->message,
                 "the zstd stream needs a window of more than datasan's limit of 128 MiB to decompress (zstd --long=31?)");
        return -1;
      }
      if (ZSTD_isError(r)) {
        snprintf(c->message, sizeof c->message, "corrupt zstd stream: %s", ZSTD_getErrorName(r));
        return -1;
      }
      if (r == 0) ended = 1;
      break;
    }
    default:
      snprintf(c->message, sizeof c->message, "unknown compression");
      return -1;
    }
    if (ended) { c->inside = 0; c->members++; }
    if (used == before_in && made == before_out && !ended) break; /* no progress: more input or room needed */
  }
  *consumed = used;
  *produced = made;
  if (at_eof && used == in_len && made < out_cap) {
    if (c->kind == DATASAN_XZ) {
      /* LZMA_FINISH with no input left: liblzma says whether the stream is complete. */
      if (made == 0 && !c->inside) return 1;
      return result;
    }
    if (!c->inside || c->inside == 2) return 1;
    /* Inside a member with all input given, room left and no more output: truncated. */
    snprintf(c->message, sizeof c->message, "the %s stream is truncated (the file ends inside it)",
             datasan_compression_name(c->kind));
    return made == 0 ? -1 : 0;
  }
  return result;
}

/*
 * Encodes in[0..<in_len] (with `finish`: the last bytes; call until it returns 1) into
 * out[0..<out_cap]. Returns 1 when finished (every byte written out), -1 on an error, else 0.
 */
static inline int datasan_encode(datasan_codec *c, const uint8_t *in, size_t in_len, int finish, size_t *consumed,
                                 uint8_t *out, size_t out_cap, size_t *produced) {
  size_t used = 0, made = 0;
  int done = 0;
  switch (c->kind) {
  case DATASAN_GZIP: {
    c->z.next_in = (Bytef *)in;
    c->z.avail_in = (uInt)in_len;
    c->z.next_out = out;
    c->z.avail_out = (uInt)out_cap;
    int r = deflate(&c->z, finish ? Z_FINISH : Z_NO_FLUSH);
    used = in_len - c->z.avail_in;
    made = out_cap - c->z.avail_out;
    if (r == Z_STREAM_END) done = 1;
    else if (r != Z_OK && r != Z_BUF_ERROR) { snprintf(c->message, sizeof c->message, "zlib: deflate failed"); return -1; }
    break;
  }
  case DATASAN_BZIP2: {
    c->bz.next_in = (char *)in;
    c->bz.avail_in = (unsigned)in_len;
    c->bz.next_out = (char *)out;
    c->bz.avail_out = (unsigned)out_cap;
    int r = BZ2_bzCompress(&c->bz, finish ? BZ_FINISH : BZ_RUN);
    used = in_len - c->bz.avail_in;
    made = out_cap - c->bz.avail_out;
    if (r == BZ_STREAM_END) done = 1;
    else if (r != BZ_RUN_OK && r != BZ_FINISH_OK) { snprintf(c->message, sizeof c->message, "libbz2: compression failed"); return -1; }
    break;
  }
  case DATASAN_XZ: {
    c->xz.next_in = in;
    c->xz.avail_in = in_len;
    c->xz.next_out = out;
    c->xz.avail_out = out_cap;
    lzma_ret r = lzma_code(&c->xz, finish ? LZMA_FINISH : LZMA_RUN);
    used = in_len - c->xz.avail_in;
    made = out_cap - c->xz.avail_out;
    if (r == LZMA_STREAM_END) done = 1;
    else if (r != LZMA_OK && r != LZMA_BUF_ERROR) { snprintf(c->message, sizeof c->message, "liblzma: %s", datasan_xz_error(r)); return -1; }
    break;
  }
  case DATASAN_ZSTD: {
    ZSTD_inBuffer ib = {in, in_len, 0};
    ZSTD_outBuffer ob = {out, out_cap, 0};
    size_t r = ZSTD_compressStream2(c->zc, &ob, &ib, finish ? ZSTD_e_end : ZSTD_e_continue);
    used = ib.pos;
    made = ob.pos;
    if (ZSTD_isError(r)) { snprintf(c->message, sizeof c->message, "libzstd: %s", ZSTD_getErrorName(r)); return -1; }
    if (finish && r == 0) done = 1;
    break;
  }
  default:
    return -1;
  }
  *consumed = used;
  *produced = made;
  return done;
}

#endif
