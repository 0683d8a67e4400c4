// An allocation counter for the tests (LD_PRELOAD=libDatasanAllocationCounter.so): every malloc,
// calloc, realloc and aligned allocation of the process is counted, then passed on to glibc's own
// allocator. At exit the count is written to the file named by DATASAN_ALLOCATION_COUNT_FILE.
// The CLI tests run datasan on N and on 4N samples under it: what a scan allocates per sample is
// the difference over 3N.

#define _GNU_SOURCE
#include "counter.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static uint64_t datasan_allocations;

static inline void datasan_count(void) { __atomic_fetch_add(&datasan_allocations, 1, __ATOMIC_RELAXED); }

void *malloc(size_t size) {
  datasan_count();
  return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
  datasan_count();
  return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
  datasan_count();
  return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size) {
  datasan_count();
  return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
  datasan_count();
  return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
  datasan_count();
  void *p = __libc_memalign(alignment, size);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}

uint64_t datasan_allocation_count(void) { return __atomic_load_n(&datasan_allocations, __ATOMIC_RELAXED); }

__attribute__((destructor)) static void datasan_report_allocations(void) {
  const char *path = getenv("DATASAN_ALLOCATION_COUNT_FILE");
  if (path == NULL) return;
  FILE *file = fopen(path, "w");
  if (file == NULL) return;
  fprintf(file, "%llu\n", (unsigned long long)datasan_allocation_count());
  fclose(file);
}
