#ifndef MERIDIAN_CMAXMINDDB_SHIM_H
#define MERIDIAN_CMAXMINDDB_SHIM_H
// libmaxminddb (Debian: libmaxminddb-dev). MMDB_get_value is variadic and cannot be called
// from Swift; use MMDB_aget_value with a NULL-terminated path array instead.
#include <maxminddb.h>
#endif
