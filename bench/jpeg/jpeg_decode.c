/* LIMIT for the JPEG rows of `make bench` (issue 12): TurboJPEG decode of every image, single thread,
 * with datasan's decode flags (TJFLAG_STOPONWARNING; accurate IDCT and fancy upsampling, TurboJPEG's
 * defaults) into a reused buffer, colour as RGB, gray as one channel. A per-image byte sum keeps the
 * decode observable.
 *   jpeg_decode ROOT          every .jpg/.jpeg under ROOT (ROOT/<class>/NAME, or flat), in path order
 *   jpeg_decode --lmdb DB     the data field of every Datum of the LMDB environment DB, in key order
 * Build: cc -O3 -march=native jpeg_decode.c -o jpeg_decode -lturbojpeg -llmdb */
#include <dirent.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <turbojpeg.h>

static tjhandle tj;
static unsigned char *buf, *file;
static size_t bufcap, filecap;
static long long n_images, n_bad, n_pixels;
static uint64_t sum;

static void die(const char *what, const char *arg) {
  fprintf(stderr, "jpeg_decode: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
  exit(2);
}

static void decode(const unsigned char *data, size_t size) {
  int w, h, subsamp, cs;
  n_images++;
  if (tjDecompressHeader3(tj, data, (unsigned long)size, &w, &h, &subsamp, &cs) != 0) { n_bad++; return; }
  int gray = cs == TJCS_GRAY;
  size_t need = (size_t)w * (size_t)h * (gray ? 1 : 3);
  if (need > bufcap) { free(buf); bufcap = need; buf = malloc(bufcap); if (!buf) die("out of memory", NULL); }
  if (tjDecompress2(tj, data, (unsigned long)size, buf, w, 0, h, gray ? TJPF_GRAY : TJPF_RGB,
                    TJFLAG_STOPONWARNING) != 0) { n_bad++; return; }
  n_pixels += (long long)w * h;
  uint64_t s = 0;
  for (size_t i = 0; i < need; i++) s += buf[i];
  sum += s;
}

static void decode_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { n_images++; n_bad++; return; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size < 0) size = 0;
  if ((size_t)size > filecap) { free(file); filecap = (size_t)size * 2; file = malloc(filecap); }
  size_t got = fread(file, 1, (size_t)size, f);
  fclose(f);
  decode(file, got);
}

static int is_jpeg(const char *name) {
  size_t n = strlen(name);
  return (n > 4 && strcasecmp(name + n - 4, ".jpg") == 0) || (n > 5 && strcasecmp(name + n - 5, ".jpeg") == 0);
}

static void walk(const char *dir, int depth) {
  struct dirent **ents;
  int n = scandir(dir, &ents, NULL, alphasort);
  if (n < 0) die("cannot read directory", dir);
  char path[4096];
  for (int i = 0; i < n; i++) {
    const char *nm = ents[i]->d_name;
    if (nm[0] == '.') { free(ents[i]); continue; }
    snprintf(path, sizeof path, "%s/%s", dir, nm);
    int isdir = ents[i]->d_type == DT_DIR;
    if (ents[i]->d_type == DT_UNKNOWN) { struct stat st; isdir = stat(path, &st) == 0 && S_ISDIR(st.st_mode); }
    if (isdir && depth == 0) walk(path, 1);
    else if (!isdir && is_jpeg(nm)) decode_file(path);
    free(ents[i]);
  }
  free(ents);
}

/* The data field (4) of a serialized Datum; NULL when absent or malformed. */
static const unsigned char *datum_data(const unsigned char *p, size_t n, size_t *size) {
  size_t at = 0;
  while (at < n) {
    uint64_t key = 0;
    for (int shift = 0; at < n; shift += 7) { uint8_t b = p[at++]; key |= (uint64_t)(b & 0x7f) << shift; if (b < 0x80) break; if (shift > 63) return NULL; }
    uint64_t v = 0;
    switch (key & 7) {
      case 0: for (int shift = 0; at < n; shift += 7) { uint8_t b = p[at++]; v |= (uint64_t)(b & 0x7f) << shift; if (b < 0x80) break; if (shift > 63) return NULL; } break;
      case 1: at += 8; break;
      case 5: at += 4; break;
      case 2:
        for (int shift = 0; at < n; shift += 7) { uint8_t b = p[at++]; v |= (uint64_t)(b & 0x7f) << shift; if (b < 0x80) break; if (shift > 63) return NULL; }
        if (v > n - at) return NULL;
        if ((key >> 3) == 4) { *size = (size_t)v; return p + at; }
        at += (size_t)v;
        break;
      default: return NULL;
    }
  }
  return NULL;
}

static void scan_lmdb(const char *path) {
  MDB_env *env; MDB_txn *txn; MDB_dbi dbi; MDB_cursor *cur; MDB_val k, v;
  if (mdb_env_create(&env) || mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK, 0664)) die("cannot open LMDB", path);
  if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) || mdb_dbi_open(txn, NULL, 0, &dbi) || mdb_cursor_open(txn, dbi, &cur))
    die("cannot read LMDB", path);
  while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
    size_t size = 0;
    const unsigned char *data = datum_data(v.mv_data, v.mv_size, &size);
    if (!data) { n_images++; n_bad++; continue; }
    decode(data, size);
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  mdb_env_close(env);
}

int main(int argc, char **argv) {
  if (argc < 2) die("usage: jpeg_decode ROOT | jpeg_decode --lmdb DB", NULL);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (!(tj = tjInitDecompress())) die("tjInitDecompress failed", NULL);
  const char *path = argv[argc - 1];
  if (argc > 2 && strcmp(argv[1], "--lmdb") == 0) scan_lmdb(path); else walk(path, 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("{\"limit\":\"jpeg_decode\",\"path\":\"%s\",\"images\":%lld,\"unreadable\":%lld,\"pixels\":%lld,"
         "\"checksum\":%llu,\"seconds\":%.3f}\n", path, n_images, n_bad, n_pixels, (unsigned long long)sum,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}
