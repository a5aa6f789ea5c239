#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CMeridianIO.h"

_Static_assert(sizeof(meridian_mmsghdr) == sizeof(struct mmsghdr), "meridian_mmsghdr must match struct mmsghdr");

const int meridian_msg_waitforone = MSG_WAITFORONE;

int meridian_recvmmsg(int fd, meridian_mmsghdr *messages, unsigned int count, int flags, struct timespec *timeout) {
    return recvmmsg(fd, (struct mmsghdr *)messages, count, flags, timeout);
}

int meridian_sendmmsg(int fd, meridian_mmsghdr *messages, unsigned int count, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)messages, count, flags);
}

int meridian_allowed_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
}

void meridian_release_free_memory(void) {
    malloc_trim(0);
}

int meridian_name_thread(const char *name) {
    char shortened[16];
    snprintf(shortened, sizeof(shortened), "%s", name);
    return pthread_setname_np(pthread_self(), shortened);
}

int meridian_lower_thread_priority(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}
