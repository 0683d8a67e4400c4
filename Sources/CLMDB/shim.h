#ifndef DATASAN_CLMDB_SHIM_H
#define DATASAN_CLMDB_SHIM_H

#include <lmdb.h>

/*
 * Fault guard for reading untrusted LMDB environments.
 *
 * liblmdb trusts the pages of its memory map: a corrupt page (a node offset or size past the page, a
 * garbage overflow page) makes it read outside the map (SIGSEGV), a data file shorter than the map
 * raises SIGBUS, and a failed internal assertion calls abort(). datasan must never crash on a damaged
 * dataset, so every liblmdb call that touches the map while reading, and every copy out of the map,
 * runs inside one of the `datasan_mdb_guarded_*` functions below:
 *
 *   - the function saves its registers with sigsetjmp and publishes the jump buffer in a thread-local
 *     pointer ("armed");
 *   - a process-wide SIGSEGV/SIGBUS handler (installed once, chained to the handler that was there
 *     before) siglongjmps back into the armed function of the faulting thread; a fault on a thread that
 *     is not armed is handed to the previous handler (or to the default action), so other crashes still
 *     crash as before;
 *   - liblmdb's assertion callback (mdb_env_set_assert) jumps back the same way instead of abort().
 *
 * Why this is sound: between sigsetjmp and the fault there are only C frames (this header's function,
 * liblmdb, memcpy), never Swift frames; liblmdb's read path takes no lock and allocates nothing (read
 * transactions only follow page pointers), so jumping out leaves no lock held and nothing half-updated
 * except the cursor, which the caller then closes together with its read-only transaction.
 * sigsetjmp(.., 0) does not save the signal mask (no system call per record); SA_NODEFER keeps the
 * signal unblocked inside the handler, so the mask is the same after the jump.
 * The functions are `noinline`: LLVM never inlines a function that calls setjmp into its caller anyway.
 */

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>

/* Return code of a guarded call that was interrupted by a fault (outside liblmdb's error range). */
#define DATASAN_MDB_FAULT (-30000)

typedef struct datasan_mdb_guard {
  sigjmp_buf jump;
  volatile sig_atomic_t armed;
} datasan_mdb_guard;

typedef struct datasan_mdb_guard_state {
  struct sigaction previous_segv;
  struct sigaction previous_bus;
  volatile int installed;
  pthread_mutex_t lock;
} datasan_mdb_guard_state;

static inline datasan_mdb_guard_state *datasan_mdb_state(void) {
  static datasan_mdb_guard_state state = {.installed = 0, .lock = PTHREAD_MUTEX_INITIALIZER};
  return &state;
}

/* The armed guard of this thread, or NULL. */
static inline datasan_mdb_guard *volatile *datasan_mdb_current(void) {
  static _Thread_local datasan_mdb_guard *volatile current = NULL;
  return &current;
}

/* What stopped the last interrupted call of this thread: a signal number, or 0 for an assertion. */
static inline int *datasan_mdb_fault_signal(void) {
  static _Thread_local int signal_number = 0;
  return &signal_number;
}

/* liblmdb's assertion message of the last interrupted call of this thread ("" when it was a signal). */
static inline char *datasan_mdb_fault_message(void) {
  static _Thread_local char message[320];
  return message;
}

static void datasan_mdb_fault_handler(int sig, siginfo_t *info, void *context) {
  datasan_mdb_guard *guard = *datasan_mdb_current();
  if (guard != NULL && guard->armed) {
    guard->armed = 0;
    *datasan_mdb_fault_signal() = sig;
    datasan_mdb_fault_message()[0] = 0;
    siglongjmp(guard->jump, 1);
  }
  /* Not a guarded read: behave as if this handler had never been installed. */
  datasan_mdb_guard_state *state = datasan_mdb_state();
  struct sigaction *previous = (sig == SIGBUS) ? &state->previous_bus : &state->previous_segv;
  if ((previous->sa_flags & SA_SIGINFO) && previous->sa_sigaction != NULL) {
    previous->sa_sigaction(sig, info, context);
    return;
  }
  if (!(previous->sa_flags & SA_SIGINFO) && previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
    previous->sa_handler(sig);
    return;
  }
  /* Default action: restore it and return; the faulting instruction runs again and faults for real. */
  state->installed = 0;
  sigaction(sig, previous, NULL);
}

/* Installs the handler once per process (again if it had to give way to the default action). */
static inline int datasan_mdb_install_guard(void) {
  datasan_mdb_guard_state *state = datasan_mdb_state();
  if (state->installed) return 0;
  pthread_mutex_lock(&state->lock);
  int rc = 0;
  if (!state->installed) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = datasan_mdb_fault_handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    struct sigaction old_segv, old_bus;
    if (sigaction(SIGSEGV, &action, &old_segv) != 0 || sigaction(SIGBUS, &action, &old_bus) != 0) {
      rc = -1;
    } else {
      /* Keep the handler we replaced, unless it is ours (a second install after giving way). */
      if (old_segv.sa_sigaction != datasan_mdb_fault_handler) state->previous_segv = old_segv;
      if (old_bus.sa_sigaction != datasan_mdb_fault_handler) state->previous_bus = old_bus;
      state->installed = 1;
    }
  }
  pthread_mutex_unlock(&state->lock);
  return rc;
}

/* liblmdb's assertion callback: jump back into the armed guarded call instead of abort(). */
static void datasan_mdb_assert_handler(MDB_env *env, const char *message) {
  (void)env;
  datasan_mdb_guard *guard = *datasan_mdb_current();
  if (guard != NULL && guard->armed) {
    guard->armed = 0;
    *datasan_mdb_fault_signal() = 0;
    char *out = datasan_mdb_fault_message();
    strncpy(out, message ? message : "assertion failed", 319);
    out[319] = 0;
    siglongjmp(guard->jump, 1);
  }
  /* Unguarded: liblmdb prints the message and aborts, as it would without us. */
}

/* Makes liblmdb's internal assertions recoverable inside guarded calls. */
static inline int datasan_mdb_env_set_guarded_assert(MDB_env *env) {
  return mdb_env_set_assert(env, datasan_mdb_assert_handler);
}

/* mdb_cursor_get under the fault guard: liblmdb's return code, or DATASAN_MDB_FAULT. */
__attribute__((noinline)) static int datasan_mdb_guarded_cursor_get(
    MDB_cursor *cursor, MDB_val *key, MDB_val *data, MDB_cursor_op op) {
  datasan_mdb_guard guard;
  if (datasan_mdb_install_guard() != 0) return mdb_cursor_get(cursor, key, data, op);
  datasan_mdb_guard *volatile *current = datasan_mdb_current();
  datasan_mdb_guard *saved = *current;
  if (sigsetjmp(guard.jump, 0) != 0) {
    *current = saved;
    return DATASAN_MDB_FAULT;
  }
  guard.armed = 1;
  *current = &guard;
  int rc = mdb_cursor_get(cursor, key, data, op);
  guard.armed = 0;
  *current = saved;
  return rc;
}

/* memcpy out of the map under the fault guard: 0, or DATASAN_MDB_FAULT. */
__attribute__((noinline)) static int datasan_mdb_guarded_copy(void *destination, const void *source, size_t count) {
  datasan_mdb_guard guard;
  if (datasan_mdb_install_guard() != 0) {
    memcpy(destination, source, count);
    return 0;
  }
  datasan_mdb_guard *volatile *current = datasan_mdb_current();
  datasan_mdb_guard *saved = *current;
  if (sigsetjmp(guard.jump, 0) != 0) {
    *current = saved;
    return DATASAN_MDB_FAULT;
  }
  guard.armed = 1;
  *current = &guard;
  if (count > 0) memcpy(destination, source, count);
  guard.armed = 0;
  *current = saved;
  return 0;
}

/* Test hook: reads one byte at `address` under the guard (0 and the byte, or DATASAN_MDB_FAULT). */
__attribute__((noinline)) static int datasan_mdb_guarded_probe(const volatile uint8_t *address, uint8_t *byte) {
  return datasan_mdb_guarded_copy(byte, (const void *)address, 1);
}

/* The signal (SIGSEGV, SIGBUS) or 0 (liblmdb assertion) that interrupted this thread's last guarded call. */
static inline int datasan_mdb_last_fault_signal(void) { return *datasan_mdb_fault_signal(); }

/* liblmdb's assertion message for the last interrupted call of this thread ("" after a signal). */
static inline const char *datasan_mdb_last_fault_message(void) { return datasan_mdb_fault_message(); }

#endif
