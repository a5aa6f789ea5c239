#ifndef MERIDIAN_CMERIDIANIO_H
#define MERIDIAN_CMERIDIANIO_H
// Batched datagram I/O (recvmmsg/sendmmsg). glibc declares struct mmsghdr only with
// _GNU_SOURCE, which Swift's Glibc module is built without, so this header declares a
// struct of the same layout and the .c file checks that it matches.
#include <sys/socket.h>
#include <time.h>

typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} meridian_mmsghdr;

int meridian_recvmmsg(int fd, meridian_mmsghdr *messages, unsigned int count, int flags, struct timespec *timeout);
int meridian_sendmmsg(int fd, meridian_mmsghdr *messages, unsigned int count, int flags);

/// CPUs this process may run on (its affinity mask, as `taskset` sets it); 0 if unknown.
int meridian_allowed_cpus(void);

/// Returns freed heap memory to the system (glibc malloc_trim) after a load's temporary
/// tables are gone; without it RSS keeps the load's peak.
void meridian_release_free_memory(void);

/// Makes malloc take every block of at least `bytes` straight from the kernel and hand it back
/// when freed (glibc M_MMAP_THRESHOLD, which also stops glibc from raising the threshold as
/// large blocks are freed); 1 on success.
int meridian_map_large_allocations(int bytes);

/// Names the calling thread (its first 15 bytes: what Linux keeps); 0 or an errno value.
int meridian_name_thread(const char *name);

/// Gives the calling thread (not the process) the niceness `nice`; 0 or -1 with errno.
int meridian_lower_thread_priority(int nice);

/// MSG_WAITFORONE: block for the first datagram, then take what is queued.
extern const int meridian_msg_waitforone;

// epoll for the TCP workers. Linux's struct epoll_event is packed on x86-64, which Swift
// does not import reliably, so the workers see this unpacked copy.
typedef struct {
    unsigned int events;
    unsigned long long token;
} meridian_ready;

extern const unsigned int meridian_epoll_in;
extern const unsigned int meridian_epoll_out;

/// A new epoll instance, close-on-exec; -1 with errno on failure.
int meridian_epoll_create(void);
/// epoll_ctl ADD, MOD and DEL; 0 or -1 with errno.
int meridian_epoll_add(int epfd, int fd, unsigned int events, unsigned long long token);
int meridian_epoll_modify(int epfd, int fd, unsigned int events, unsigned long long token);
int meridian_epoll_remove(int epfd, int fd);
/// epoll_wait for at most `count` (up to 256) descriptors; their events and tokens go to `ready`.
int meridian_epoll_wait(int epfd, meridian_ready *ready, int count, int timeoutMilliseconds);

/// accept4 with SOCK_NONBLOCK and SOCK_CLOEXEC; the peer's address goes to `peer`.
int meridian_accept(int fd, struct sockaddr_storage *peer);

#endif
