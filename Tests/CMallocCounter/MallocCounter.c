// Counts heap allocations of one thread by defining malloc and friends in the test
// executable, which takes precedence over libc's (ELF symbol interposition), and
// forwarding to glibc's internal entry points. Used only by tests, to prove that the
// query path allocates nothing.
#include "CMallocCounter.h"
#include <stddef.h>
#include <errno.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static __thread int counting;
static __thread int64_t count;
static int interposed;

void *malloc(size_t size) { interposed = 1; if (counting) count++; return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { if (counting) count++; return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { if (counting) count++; return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }
void *aligned_alloc(size_t alignment, size_t size) { if (counting) count++; return __libc_memalign(alignment, size); }
void *memalign(size_t alignment, size_t size) { if (counting) count++; return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    if (counting) count++;
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void malloc_counter_start(void) { count = 0; counting = 1; }
int64_t malloc_counter_stop(void) { counting = 0; return count; }
int malloc_counter_active(void) {
    void *p = malloc(1);
    free(p);
    return interposed;
}
