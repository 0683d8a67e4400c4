#ifndef CDATASAN_LMDB_GUARD_H
#define CDATASAN_LMDB_GUARD_H

// The fault guard for reading untrusted LMDB environments (guard.c says how it works and why it
// is sound). Every liblmdb call that touches an environment's memory map while reading, and every
// copy out of the map, is one of the functions below: C functions that arm the guard and call
// liblmdb (or memcpy) themselves, so that no Swift frame ever sits between the guard's sigsetjmp
// and the code that may fault. A fault inside the map of an environment opened here (a corrupt
// page, a data file truncated under the reader) or a failed liblmdb assertion makes the call
// return DATASAN_MDB_FAULT; any other fault crashes the process as it would without the guard.

#include <stddef.h>
#include <stdint.h>

#include "../../CLMDB/shim.h"  // liblmdb (the CLMDB system library) and the canonical raw Datum parser

/// Return code of a guarded call that a fault interrupted (outside liblmdb's error range).
#define DATASAN_MDB_FAULT (-30000)
/// Return code of datasan_mdb_guarded_check_tree for a B-tree that liblmdb must not walk.
#define DATASAN_MDB_CORRUPT (-30001)
/// datasan_mdb_read_raw_datums could not read a value with pread(2).
#define DATASAN_MDB_READ_FAILED (-30002)

/// Opens the environment at `path` for reading (`flags` must include MDB_RDONLY): mdb_env_create,
/// liblmdb's assertions made recoverable, mdb_env_open under the guard, and the map registered as
/// one the guard recovers faults in. 0 and *env, or liblmdb's code / an errno / DATASAN_MDB_FAULT
/// (then *env is NULL and everything is closed again).
int datasan_mdb_reader_open(const char *path, unsigned int flags, MDB_env **env);

/// Unregisters the environment's map and closes it (after its cursor and transaction).
void datasan_mdb_reader_close(MDB_env *env);

/// Where the environment's map lies: 0, or ENOENT when it could not be found (no /proc/self/maps):
/// then the guard does not recover faults in it.
int datasan_mdb_reader_map(MDB_env *env, const void **start, size_t *length);

/// Under the guard: the read transaction (remapped once when another process grew the map), the
/// main database, its statistics and flags, the environment's info and a cursor. liblmdb's code,
/// or DATASAN_MDB_FAULT; the outputs set so far (*txn, *cursor) are the caller's to release.
int datasan_mdb_guarded_begin(
    MDB_env *env, MDB_txn **txn, MDB_cursor **cursor, MDB_stat *stat, unsigned int *db_flags, MDB_envinfo *info);

/// Under the guard: checks the main database's B-tree of the read transaction `txn` before a
/// cursor walks it (liblmdb 0.9.24 trusts it: a node flag or a page type that does not fit the
/// database makes its cursor dereference NULL or uninitialized pointers, outside any map): every
/// branch and leaf page reached once, numbered as it says, of the right type, its nodes, keys,
/// values and overflow pages inside bounds, no sorted duplicates or sub-databases. Touches the
/// headers of branch and leaf pages only, never values. 0, DATASAN_MDB_CORRUPT with `why` saying
/// what is wrong, DATASAN_MDB_FAULT, or a liblmdb code (or ENOMEM).
int datasan_mdb_guarded_check_tree(MDB_env *env, MDB_txn *txn, char *why, size_t why_size);

/// mdb_cursor_get under the guard: liblmdb's return code, or DATASAN_MDB_FAULT.
int datasan_mdb_guarded_cursor_get(MDB_cursor *cursor, MDB_val *key, MDB_val *data, MDB_cursor_op op);

/// memcpy out of the map under the guard: 0, or DATASAN_MDB_FAULT.
int datasan_mdb_guarded_copy(void *destination, const void *source, size_t count);

/// Parses the canonical raw Datums values[start..<count] (datasan_datum_parse_raw) under the guard,
/// prefetching a few values ahead: copies each one's data into `destination` (record i at
/// i * c*h*w; skipped when `destination` is NULL) and its label into labels[i], and, when
/// `moments` is not NULL, measures its `channels` planes of h*w bytes right away with
/// datasan_moments_u8 into the datasan_moments table `moments` (entry i * channels + plane): from
/// the copy, still in cache, or from the map when nothing is copied. Returns the index of the
/// first record that is not canonical (count when all are), or DATASAN_MDB_FAULT, with *at the
/// index of the record being read.
int datasan_mdb_guarded_raw_datums(
    const MDB_val *values, size_t start, size_t count, uint64_t channels, uint64_t height, uint64_t width,
    uint8_t *destination, int32_t *labels, void *moments, size_t *at);

/// datasan_mdb_guarded_raw_datums without touching the values in the map: each run of values
/// lying close together in the data file (`fd`, mapped at `map`) is read with pread(2) into a
/// buffer of 256 KiB (or the largest value) and decoded there, in cache. The map would fault each
/// page in and its page tables would be torn down again (20-35% more time a byte here), and a file
/// cut short under the map is a SIGBUS where a read just comes up short. Returns as
/// datasan_mdb_guarded_raw_datums does, or DATASAN_MDB_READ_FAILED (*at: the first record not
/// decoded) when a read fails or comes up short: the caller goes on with the guarded map.
int datasan_mdb_read_raw_datums(
    int fd, const void *map, const MDB_val *values, size_t start, size_t count, uint64_t channels, uint64_t height,
    uint64_t width, uint8_t *destination, int32_t *labels, void *moments, size_t *at);

/// Drops this process's page-table entries for the pages holding values[start..<end] (and pages
/// between runs of them, a few leaf pages), with madvise(MADV_DONTNEED): the map is a read-only
/// file mapping, so the bytes stay in the page cache and a later access maps them again. A scan
/// reads each value once; released as it goes, the map does not grow the process's resident size
/// to the file's, and the page tables are not torn down at exit, on one core, after the scan.
void datasan_mdb_release_values(const MDB_val *values, size_t start, size_t end);

/// The signal (SIGSEGV, SIGBUS) or 0 (a liblmdb assertion) that interrupted this thread's last
/// guarded call.
int datasan_mdb_last_fault_signal(void);

/// liblmdb's assertion message of this thread's last interrupted call ("" after a signal).
const char *datasan_mdb_last_fault_message(void);

/// The guard's map registry, for maps that are not an environment's (tests): faults at
/// [start, start + length) and just past it are recovered until `owner` is unregistered.
/// 0, or ENOSPC when the registry is full.
int datasan_mdb_guard_register(const void *owner, const void *start, size_t length);
void datasan_mdb_guard_unregister(const void *owner);

/// Test hook: reads one byte at `address` under the guard (0 and the byte, or DATASAN_MDB_FAULT).
int datasan_mdb_guarded_probe(const volatile uint8_t *address, uint8_t *byte);

#endif
