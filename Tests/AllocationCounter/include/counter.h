#ifndef DATASAN_ALLOCATION_COUNTER_H
#define DATASAN_ALLOCATION_COUNTER_H
#include <stdint.h>
/// Allocations counted so far in this process.
uint64_t datasan_allocation_count(void);
#endif
