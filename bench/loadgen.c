/*
 * loadgen: a small batched UDP DNS load generator for the Meridian benchmark kit.
 *
 * One dnsperf process saturates its own core before a fast authoritative server does, so
 * the saturation figures come from this client: sendmmsg/recvmmsg in batches over several
 * connected sockets, a bounded number of queries in flight per socket (closed loop, like
 * dnsperf's -q), optional rate limit (like dnsperf's -Q), replies matched by ID, latency
 * per reply in a microsecond histogram.
 *
 *   loadgen -p PORT -f QUERIES [-s 127.0.0.1] [-d SECONDS] [-Q QPS [-T TICK_US]] [-n SOCKETS]
 *           [-w WINDOW] [-b BATCH] [-t TIMEOUT_MS] [-E] [-C] [-D]
 *
 * With -Q alone, the queries due are sent whenever the loop wakes, and replies wake it: how
 * fast the server answers then shapes when queries arrive. With -T they leave every TICK_US
 * microseconds on the generator's own clock (open loop, as independent clients send), so
 * every server sees the same arrivals; replies are still read, and timed, as they come.
 *
 * QUERIES has one query per line: `NAME TYPE [SUBNET]`, e.g.
 *   api.bench.example. A 81.2.69.0/24
 * TYPE is A, AAAA, NS, SOA, MX, TXT, CNAME, PTR, SRV, ANY or TYPEnnn. Every query carries
 * an EDNS OPT record (UDP payload 1232), with an EDNS Client Subnet option when SUBNET is
 * given; -E leaves EDNS off for queries without SUBNET; -C adds a DNS COOKIE option (a
 * client cookie) to every query with EDNS; -D sets the DO bit (RFC 3225) in every OPT record,
 * asking for DNSSEC records. Queries are sent in file order,
 * round robin.
 *
 * Prints one JSON object: sent, received, lost (no reply within the timeout), late
 * (replies after their timeout), qps (received per second of the sending period),
 * latency average/p50/p99/max in microseconds, send_calls (sendmmsg calls that sent),
 * waits (times the loop slept) and the rcode counts.
 *
 * Traffic goes to loopback addresses only (127.0.0.0/8 or ::1): the program refuses any
 * other server address. It stops by itself after the given duration plus the timeout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUERY 512
#define MAX_SOCKETS 64
#define MAX_BATCH 256
#define HIST_US 1000000          /* 1 µs buckets up to 1 s; later replies go in the last */
#define RING (1u << 20)

struct query { uint16_t len; uint8_t wire[MAX_QUERY]; };

struct sent { uint64_t t; uint16_t id; };

struct sock {
    int fd;
    uint64_t inflight[65536];    /* send time (ns) of an outstanding ID, 0 when free */
    struct sent *ring;           /* outstanding IDs in send order, for timeouts */
    uint32_t head, tail;
    uint16_t next_id;
    int outstanding;
    uint8_t sbuf[MAX_BATCH][MAX_QUERY];
    uint8_t rbuf[MAX_BATCH][4096];
    struct mmsghdr smsg[MAX_BATCH], rmsg[MAX_BATCH];
    struct iovec siov[MAX_BATCH], riov[MAX_BATCH];
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg) {
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

static int qtype_code(const char *t) {
    static const struct { const char *n; int c; } types[] = {
        {"A", 1}, {"NS", 2}, {"CNAME", 5}, {"SOA", 6}, {"PTR", 12}, {"MX", 15}, {"TXT", 16},
        {"AAAA", 28}, {"SRV", 33}, {"NAPTR", 35}, {"DS", 43}, {"CAA", 257}, {"ANY", 255},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(t, types[i].n) == 0) return types[i].c;
    if (strncasecmp(t, "TYPE", 4) == 0) return atoi(t + 4);
    return -1;
}

/* Builds a query in wire format; returns its length or -1. With `cookie`, the OPT record
 * carries a COOKIE option with a fixed 8-byte client cookie (RFC 7873), so the server makes
 * a server cookie for every answer. */
static int build_query(uint8_t *out, const char *name, int qtype, const char *subnet, int edns, int cookie, int dnssec_ok) {
    uint8_t *p = out;
    memset(p, 0, 12);
    p[5] = 1;                                   /* QDCOUNT 1, RD clear: we ask an authority */
    if (edns || subnet) p[11] = 1;              /* ARCOUNT 1 */
    p += 12;
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (len == 0 || len > 63 || (p - out) + len + 2 > 300) return -1;
        *p++ = (uint8_t)len;
        memcpy(p, s, len);
        p += len;
        s += len;
        if (*s == '.') s++;
    }
    *p++ = 0;
    *p++ = (uint8_t)(qtype >> 8); *p++ = (uint8_t)qtype;
    *p++ = 0; *p++ = 1;                         /* class IN */
    if (!(edns || subnet)) return (int)(p - out);
    *p++ = 0;                                   /* OPT: root owner */
    *p++ = 0; *p++ = 41;                        /* type OPT */
    *p++ = 1232 >> 8; *p++ = 1232 & 255;        /* UDP payload size */
    *p++ = 0; *p++ = 0;                         /* extended rcode, version */
    *p++ = dnssec_ok ? 0x80 : 0; *p++ = 0;      /* flags: DO */
    uint8_t *rdlength = p;
    p += 2;
    if (subnet) {
        char addr[64];
        const char *slash = strchr(subnet, '/');
        if (!slash || (size_t)(slash - subnet) >= sizeof addr) return -1;
        memcpy(addr, subnet, (size_t)(slash - subnet));
        addr[slash - subnet] = 0;
        int prefix = atoi(slash + 1);
        uint8_t raw[16];
        int family;
        if (inet_pton(AF_INET, addr, raw) == 1) {
            family = 1;
            if (prefix < 0 || prefix > 32) return -1;
        } else if (inet_pton(AF_INET6, addr, raw) == 1) {
            family = 2;
            if (prefix < 0 || prefix > 128) return -1;
        } else {
            return -1;
        }
        int nbytes = (prefix + 7) / 8;
        if (prefix % 8) raw[nbytes - 1] &= (uint8_t)(0xff << (8 - prefix % 8));
        int optlen = 4 + nbytes;
        *p++ = 0; *p++ = 8;                     /* option code 8: Client Subnet */
        *p++ = (uint8_t)(optlen >> 8); *p++ = (uint8_t)optlen;
        *p++ = 0; *p++ = (uint8_t)family;
        *p++ = (uint8_t)prefix; *p++ = 0;       /* source prefix, scope 0 */
        memcpy(p, raw, (size_t)nbytes);
        p += nbytes;
    }
    if (cookie) {
        *p++ = 0; *p++ = 10;                    /* option code 10: COOKIE */
        *p++ = 0; *p++ = 8;
        memcpy(p, "loadgen!", 8);               /* client cookie */
        p += 8;
    }
    int rdlen = (int)(p - rdlength - 2);
    rdlength[0] = (uint8_t)(rdlen >> 8); rdlength[1] = (uint8_t)rdlen;
    return (int)(p - out);
}

union address { struct sockaddr sa; struct sockaddr_in v4; struct sockaddr_in6 v6; };

static int is_loopback(const union address *a) {
    if (a->sa.sa_family == AF_INET) return (ntohl(a->v4.sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&a->v6.sin6_addr);
}

int main(int argc, char **argv) {
    const char *server = "127.0.0.1", *file = NULL;
    int port = 0, nsock = 4, window = 32, batch = 32, timeout_ms = 200, edns = 1, cookie = 0, dnssec_ok = 0;
    double seconds = 5, rate = 0, tick_us = 0;
    int opt;
    while ((opt = getopt(argc, argv, "s:p:f:d:Q:T:n:w:b:t:ECDh")) != -1) {
        switch (opt) {
        case 's': server = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'f': file = optarg; break;
        case 'd': seconds = atof(optarg); break;
        case 'Q': rate = atof(optarg); break;
        case 'T': tick_us = atof(optarg); break;
        case 'n': nsock = atoi(optarg); break;
        case 'w': window = atoi(optarg); break;
        case 'b': batch = atoi(optarg); break;
        case 't': timeout_ms = atoi(optarg); break;
        case 'E': edns = 0; break;
        case 'C': cookie = 1; break;
        case 'D': dnssec_ok = 1; break;
        default:
            fprintf(stderr, "usage: loadgen -p PORT -f QUERIES [-s 127.0.0.1] [-d SECONDS] [-Q QPS] "
                            "[-T TICK_US] [-n SOCKETS] [-w WINDOW] [-b BATCH] [-t TIMEOUT_MS] [-E] [-C] [-D]\n");
            return 2;
        }
    }
    if (!file || port <= 0 || port > 65535) die("need -p PORT and -f QUERIES");
    if (nsock < 1 || nsock > MAX_SOCKETS) die("-n must be 1..64");
    if (batch < 1 || batch > MAX_BATCH) die("-b must be 1..256");
    if (window < 1 || window > 30000) die("-w must be 1..30000");
    if (seconds <= 0 || seconds > 3600) die("-d must be in (0, 3600]");
    if (timeout_ms < 1 || timeout_ms > 10000) die("-t must be 1..10000");
    if (tick_us < 0 || tick_us > 1000000) die("-T must be 0..1000000");
    if (tick_us > 0 && rate <= 0) die("-T needs -Q");

    union address dst;
    socklen_t dstlen;
    memset(&dst, 0, sizeof dst);
    if (inet_pton(AF_INET, server, &dst.v4.sin_addr) == 1) {
        dst.v4.sin_family = AF_INET; dst.v4.sin_port = htons((uint16_t)port); dstlen = sizeof dst.v4;
    } else if (inet_pton(AF_INET6, server, &dst.v6.sin6_addr) == 1) {
        dst.v6.sin6_family = AF_INET6; dst.v6.sin6_port = htons((uint16_t)port); dstlen = sizeof dst.v6;
    } else {
        die("server must be a numeric address");
    }
    if (!is_loopback(&dst)) die("refusing a server address outside 127.0.0.0/8 and ::1");

    /* Queries. */
    FILE *f = fopen(file, "r");
    if (!f) die("cannot open the query file");
    size_t cap = 1024, nq = 0;
    struct query *qs = malloc(cap * sizeof *qs);
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char name[300], type[32], subnet[80];
        int k = sscanf(line, "%299s %31s %79s", name, type, subnet);
        if (k <= 0 || name[0] == '#' || name[0] == ';') continue;
        if (k < 2) { fprintf(stderr, "loadgen: %s:%d: need NAME TYPE\n", file, lineno); return 2; }
        int qt = qtype_code(type);
        if (qt <= 0 || qt > 65535) { fprintf(stderr, "loadgen: %s:%d: bad type\n", file, lineno); return 2; }
        if (nq == cap) { cap *= 2; qs = realloc(qs, cap * sizeof *qs); }
        int len = build_query(qs[nq].wire, name, qt, k >= 3 ? subnet : NULL, edns, cookie, dnssec_ok);
        if (len < 0) { fprintf(stderr, "loadgen: %s:%d: bad name or subnet\n", file, lineno); return 2; }
        qs[nq++].len = (uint16_t)len;
    }
    fclose(f);
    if (nq == 0) die("no queries in the file");

    /* Sockets. */
    struct sock *socks = calloc((size_t)nsock, sizeof *socks);
    struct pollfd pfd[MAX_SOCKETS];
    for (int i = 0; i < nsock; i++) {
        struct sock *s = &socks[i];
        s->fd = socket(dst.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (s->fd < 0) die("socket() failed");
        int buf = 4 << 20;
        if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
            setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
            setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        if (connect(s->fd, &dst.sa, dstlen) != 0) die("connect() failed");
        s->ring = malloc(RING * sizeof *s->ring);
        s->next_id = (uint16_t)(i * 7919);
        for (int j = 0; j < MAX_BATCH; j++) {
            s->siov[j].iov_base = s->sbuf[j];
            s->smsg[j].msg_hdr.msg_iov = &s->siov[j];
            s->smsg[j].msg_hdr.msg_iovlen = 1;
            s->riov[j].iov_base = s->rbuf[j];
            s->riov[j].iov_len = sizeof s->rbuf[j];
            s->rmsg[j].msg_hdr.msg_iov = &s->riov[j];
            s->rmsg[j].msg_hdr.msg_iovlen = 1;
        }
        pfd[i].fd = s->fd;
        pfd[i].events = POLLIN;
    }

    uint32_t *hist = calloc(HIST_US + 1, sizeof *hist);
    uint64_t sent = 0, received = 0, lost = 0, late = 0, short_replies = 0, send_errors = 0;
    uint64_t send_calls = 0, waits = 0;
    uint64_t rcodes[16] = {0};
    long double lat_sum = 0;
    uint64_t lat_max = 0;
    size_t qi = 0;
    const uint64_t timeout_ns = (uint64_t)timeout_ms * 1000000ull;
    const uint64_t start = now_ns();
    const uint64_t send_end = start + (uint64_t)(seconds * 1e9);
    const uint64_t hard_end = send_end + timeout_ns + 100000000ull;
    uint64_t outstanding_total = 0;
    /* With -T, queries leave on the generator's own clock, every tick, whatever the replies
     * do: the server sees the same arrivals however fast it answers. */
    const uint64_t tick_ns = (uint64_t)(tick_us * 1000);
    uint64_t next_tick = start;
    if (tick_ns) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

    for (;;) {
        uint64_t t = now_ns();
        int sending = t < send_end;
        uint64_t due_at = t;
        if (tick_ns && sending) {
            if (t >= next_tick) {
                due_at = next_tick;
                while (next_tick <= t) next_tick += tick_ns;
            } else {
                sending = 0;
            }
        }
        if (t >= send_end && (outstanding_total == 0 || t >= hard_end)) break;
        int progress = 0;
        for (int i = 0; i < nsock; i++) {
            struct sock *s = &socks[i];
            /* Send what the window and the rate allow. */
            if (sending) {
                long n = window - s->outstanding;
                if (rate > 0) {
                    double due = rate * (double)(due_at - start) / 1e9 - (double)sent;
                    if (due < n) n = (long)due;
                }
                if (n > batch) n = batch;
                if (RING - (s->tail - s->head) < (uint32_t)MAX_BATCH) n = 0;
                if (n > 0) {
                    int k = 0;
                    uint16_t ids[MAX_BATCH];
                    while (k < n) {
                        uint16_t id = s->next_id++;
                        if (s->inflight[id]) continue;    /* still out since before a wrap */
                        const struct query *q = &qs[qi];
                        qi = (qi + 1 == nq) ? 0 : qi + 1;
                        memcpy(s->sbuf[k], q->wire, q->len);
                        s->sbuf[k][0] = (uint8_t)(id >> 8);
                        s->sbuf[k][1] = (uint8_t)id;
                        s->siov[k].iov_len = q->len;
                        ids[k++] = id;
                    }
                    int r = sendmmsg(s->fd, s->smsg, (unsigned)k, 0);
                    if (r < 0) {
                        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED) send_errors++;
                        r = 0;
                    }
                    uint64_t ts = now_ns();
                    for (int j = 0; j < r; j++) {
                        s->inflight[ids[j]] = ts;
                        s->ring[s->tail++ & (RING - 1)] = (struct sent){ts, ids[j]};
                    }
                    s->outstanding += r;
                    outstanding_total += (uint64_t)r;
                    sent += (uint64_t)r;
                    if (r > 0) { progress = 1; send_calls++; }
                }
            }
            /* Collect replies. */
            for (int rounds = 0; rounds < 4; rounds++) {
                int r = recvmmsg(s->fd, s->rmsg, (unsigned)batch, MSG_DONTWAIT, NULL);
                if (r <= 0) break;
                uint64_t ts = now_ns();
                progress = 1;
                for (int j = 0; j < r; j++) {
                    unsigned len = s->rmsg[j].msg_len;
                    const uint8_t *p = s->rbuf[j];
                    if (len < 12) { short_replies++; continue; }
                    uint16_t id = (uint16_t)((p[0] << 8) | p[1]);
                    uint64_t at = s->inflight[id];
                    if (!at) { late++; continue; }
                    s->inflight[id] = 0;
                    s->outstanding--;
                    outstanding_total--;
                    received++;
                    rcodes[p[3] & 15]++;
                    uint64_t us = (ts - at) / 1000;
                    lat_sum += (long double)us;
                    if (us > lat_max) lat_max = us;
                    hist[us < HIST_US ? us : HIST_US]++;
                }
                if (r < batch) break;
            }
            /* Expire queries without a reply. */
            while (s->head != s->tail) {
                struct sent e = s->ring[s->head & (RING - 1)];
                if (s->inflight[e.id] != e.t) { s->head++; continue; }   /* answered */
                if ((e.t >= t || t - e.t < timeout_ns) && t < hard_end) break;
                s->inflight[e.id] = 0;
                s->outstanding--;
                outstanding_total--;
                lost++;
                s->head++;
            }
        }
        if (!progress) {
            struct timespec wait = {0, 1000000};
            if (tick_ns && t < send_end) {
                uint64_t now = now_ns();
                uint64_t left = next_tick > now ? next_tick - now : 0;
                wait.tv_sec = (time_t)(left / 1000000000ull);
                wait.tv_nsec = (long)(left % 1000000000ull);
            }
            ppoll(pfd, (nfds_t)nsock, &wait, NULL);
            waits++;
        }
    }
    /* Anything still out when the run ends is lost. */
    for (int i = 0; i < nsock; i++) {
        lost += (uint64_t)socks[i].outstanding;
        close(socks[i].fd);
    }

    double elapsed = (double)(send_end - start) / 1e9;
    uint64_t p50 = 0, p99 = 0, acc = 0;
    int have50 = 0;
    for (uint64_t us = 0; us <= HIST_US && received; us++) {
        acc += hist[us];
        if (!have50 && acc * 2 >= received) { p50 = us; have50 = 1; }
        if (acc * 100 >= received * 99) { p99 = us; break; }
    }
    static const char *rn[16] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                 "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11",
                                 "RCODE12", "RCODE13", "RCODE14", "RCODE15"};
    printf("{\"queries\": %zu, \"sockets\": %d, \"window\": %d, \"batch\": %d, \"rate\": %.0f, "
           "\"seconds\": %.3f, \"sent\": %llu, \"received\": %llu, \"lost\": %llu, \"late\": %llu, "
           "\"short\": %llu, \"send_errors\": %llu, \"qps\": %.1f, \"lat_avg_us\": %.1f, "
           "\"lat_p50_us\": %llu, \"lat_p99_us\": %llu, \"lat_max_us\": %llu, \"send_calls\": %llu, "
           "\"waits\": %llu, \"rcodes\": {",
           nq, nsock, window, batch, rate, elapsed, (unsigned long long)sent,
           (unsigned long long)received, (unsigned long long)lost, (unsigned long long)late,
           (unsigned long long)short_replies, (unsigned long long)send_errors,
           (double)received / elapsed, received ? (double)(lat_sum / received) : 0.0,
           (unsigned long long)p50, (unsigned long long)p99, (unsigned long long)lat_max,
           (unsigned long long)send_calls, (unsigned long long)waits);
    int first = 1;
    for (int i = 0; i < 16; i++) {
        if (!rcodes[i]) continue;
        printf("%s\"%s\": %llu", first ? "" : ", ", rn[i], (unsigned long long)rcodes[i]);
        first = 0;
    }
    printf("}}\n");
    return 0;
}
