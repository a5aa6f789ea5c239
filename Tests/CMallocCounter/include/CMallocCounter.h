#ifndef MERIDIAN_MALLOC_COUNTER_H
#define MERIDIAN_MALLOC_COUNTER_H
#include <stdint.h>

/// Starts counting allocations made by the calling thread.
void malloc_counter_start(void);
/// Stops counting and returns the number of malloc/calloc/realloc/memalign calls seen.
int64_t malloc_counter_stop(void);
/// True when this process's malloc goes through the counter (it is linked in statically).
int malloc_counter_active(void);

#endif
