#ifndef MERIDIAN_CMAXMINDDB_SHIM_H
#define MERIDIAN_CMAXMINDDB_SHIM_H
// libmaxminddb (Debian: libmaxminddb-dev). MMDB_get_value is variadic and cannot be called
// from Swift; use MMDB_aget_value with a NULL-terminated path array instead.
#include <maxminddb.h>
#include <fcntl.h>
#include <sys/mman.h>

// libmaxminddb maps the file it opens, and a mapping of an operator's file faults (SIGBUS)
// when the file is shortened in place. The loader therefore gives it a private copy in a
// memory file. memfd_create and the sealing fcntl are declared only with _GNU_SOURCE, which
// the Swift Glibc module does not set, and fcntl is variadic.
int memfd_create(const char *name, unsigned int flags);

/// A new memory file that can be sealed (MFD_CLOEXEC | MFD_ALLOW_SEALING); -1 with errno.
static inline int meridian_memory_file(const char *name) {
    return memfd_create(name, 0x0001U | 0x0002U);
}

/// Seals a memory file against shrinking, growing and writing (F_ADD_SEALS with
/// F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE); -1 with errno.
static inline int meridian_seal_memory_file(int fd) {
    return fcntl(fd, 1024 + 9, 0x0001 | 0x0002 | 0x0004 | 0x0008);
}
#endif
