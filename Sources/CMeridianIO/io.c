#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/epoll.h>
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

int meridian_map_large_allocations(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

int meridian_name_thread(const char *name) {
    char shortened[16];
    snprintf(shortened, sizeof(shortened), "%s", name);
    return pthread_setname_np(pthread_self(), shortened);
}

int meridian_lower_thread_priority(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

const unsigned int meridian_epoll_in = EPOLLIN;
const unsigned int meridian_epoll_out = EPOLLOUT;

int meridian_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

static int meridian_epoll_control(int epfd, int operation, int fd, unsigned int events, unsigned long long token) {
    struct epoll_event event = { .events = events, .data = { .u64 = token } };
    return epoll_ctl(epfd, operation, fd, &event);
}

int meridian_epoll_add(int epfd, int fd, unsigned int events, unsigned long long token) {
    return meridian_epoll_control(epfd, EPOLL_CTL_ADD, fd, events, token);
}

int meridian_epoll_modify(int epfd, int fd, unsigned int events, unsigned long long token) {
    return meridian_epoll_control(epfd, EPOLL_CTL_MOD, fd, events, token);
}

int meridian_epoll_remove(int epfd, int fd) {
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

int meridian_epoll_wait(int epfd, meridian_ready *ready, int count, int timeoutMilliseconds) {
    struct epoll_event events[256];
    if (count > 256) count = 256;
    int found = epoll_wait(epfd, events, count, timeoutMilliseconds);
    for (int index = 0; index < found; index++) {
        ready[index].events = events[index].events;
        ready[index].token = events[index].data.u64;
    }
    return found;
}

int meridian_accept(int fd, struct sockaddr_storage *peer) {
    socklen_t length = sizeof(*peer);
    return accept4(fd, (struct sockaddr *)peer, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
