// How faults end under the LMDB fault guard, each in a process of its own (RobustnessTests run it):
//
//   inside        a SIGBUS inside a registered map and a SIGSEGV just past its end come back as
//                 DATASAN_MDB_FAULT, on two threads at once: exit 0
//   outside       a guarded read of address 16 (not in any map): dies of SIGSEGV
//   beyond-reach  a guarded read 2 MiB past the end of a registered map: dies of SIGSEGV
//   sent          SIGSEGV sent with pthread_kill to a thread inside guarded copies: dies of SIGSEGV
//   unarmed       SIGSEGV raised outside any guarded call, the guard installed: dies of SIGSEGV
//
// Any other ending (exit 3) means the guard swallowed a fault that is not a damaged environment's.
#include <CDatasanLMDBGuard.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long page;

static void fail(const char *what) {
  fprintf(stderr, "guard check: %s\n", what);
  exit(3);
}

/* `pages` pages reserved, the first `filePages` of them mapping a 100-byte file, the rest left
 * reserved without access (PROT_NONE: a read there faults as past an unmapped end does, and no other
 * mapping of this process, ASan's among them, can land there meanwhile); the file-backed part
 * registered. */
static uint8_t *registered_map(size_t pages, size_t filePages) {
  char path[] = "/tmp/datasan-guard-check-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) fail("mkstemp");
  unlink(path);
  char bytes[100];
  memset(bytes, 7, sizeof bytes);
  if (write(fd, bytes, sizeof bytes) != (ssize_t)sizeof bytes) fail("write");
  uint8_t *base = mmap(NULL, pages * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) fail("mmap reserve");
  if (mmap(base, filePages * page, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) fail("mmap file");
  close(fd);
  if (datasan_mdb_guard_register(base, base, filePages * page) != 0) fail("register");
  return base;
}

static void *inside_thread(void *arg) {
  uint8_t *base = arg;
  for (int i = 0; i < 2000; i++) {
    uint8_t byte = 0;
    if (datasan_mdb_guarded_probe(base, &byte) != 0 || byte != 7) return "the file's first byte";
    if (datasan_mdb_guarded_probe(base + 2 * page, &byte) != DATASAN_MDB_FAULT) return "no fault past the file";
    if (datasan_mdb_last_fault_signal() != SIGBUS) return "not SIGBUS past the file";
    if (datasan_mdb_guarded_probe(base + 3 * page, &byte) != DATASAN_MDB_FAULT) return "no fault past the map";
    if (datasan_mdb_last_fault_signal() != SIGSEGV) return "not SIGSEGV past the map";
  }
  return NULL;
}

/* Set by the copying thread once it runs, polled by main: atomic (TSan saw the volatile int race). */
static atomic_int copying = 0;

static void *copy_thread(void *arg) {
  (void)arg;
  size_t size = 64 << 20;
  uint8_t *source = malloc(size), *target = malloc(size);
  if (!source || !target) fail("malloc");
  memset(source, 1, size);
  atomic_store(&copying, 1);
  for (;;) {
    if (datasan_mdb_guarded_copy(target, source, size) != 0) fail("a sent SIGSEGV came back as a fault");
  }
  return NULL;
}

int main(int argc, char **argv) {
  page = sysconf(_SC_PAGESIZE);
  const char *mode = argc > 1 ? argv[1] : "";
  uint8_t byte = 0;
  if (strcmp(mode, "inside") == 0) {
    uint8_t *base = registered_map(4, 3);
    pthread_t threads[2];
    for (int t = 0; t < 2; t++) pthread_create(&threads[t], NULL, inside_thread, base);
    for (int t = 0; t < 2; t++) {
      void *why = NULL;
      pthread_join(threads[t], &why);
      if (why) fail(why);
    }
    datasan_mdb_guard_unregister(base);
    return 0;
  }
  if (strcmp(mode, "outside") == 0) {
    datasan_mdb_guarded_probe((const uint8_t *)16, &byte);
  } else if (strcmp(mode, "beyond-reach") == 0) {
    size_t pages = (size_t)((4 << 20) / page);
    uint8_t *base = registered_map(pages, 2);
    datasan_mdb_guarded_probe(base + 2 * page + (2 << 20), &byte);
  } else if (strcmp(mode, "sent") == 0) {
    pthread_t thread;
    pthread_create(&thread, NULL, copy_thread, NULL);
    while (!atomic_load(&copying)) usleep(1000);
    usleep(50000);
    pthread_kill(thread, SIGSEGV);
    /* A crash handler (Swift's backtracer) pauses this thread with a signal: sleep again. */
    for (int i = 0; i < 1000; i++) usleep(10000);
  } else if (strcmp(mode, "unarmed") == 0) {
    if (datasan_mdb_guarded_probe(&byte, &byte) != 0) fail("a good read failed");
    raise(SIGSEGV);
  } else {
    fail("usage: datasan-lmdb-guard-check inside|outside|beyond-reach|sent|unarmed");
  }
  fail("still running after the fault");
  return 3;
}
