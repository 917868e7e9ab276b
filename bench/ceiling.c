/*
 * The ceiling for cache-hit benchmarks: the least work an HTTP/1.1 server can do per request
 * on this machine. It answers every request on a keep-alive connection with one fixed body
 * held in memory, written with a single writev (head and body). It does not look at the
 * request beyond finding its end, keeps no cache, adds no headers and writes no log, so no
 * real cache can be faster; what it reaches is what the kernel's loopback TCP and the load
 * generator, sharing the same cores, leave. bench/edge.sh runs it beside the peers.
 *
 *   cc -O2 -o ceiling bench/ceiling.c -lpthread
 *   ceiling PORT THREADS FILE
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int port;
static char head[160];
static size_t head_len, body_len;
static char *body;

/* Per connection: the bytes of a request head read so far (only the last 3 matter). */
struct conn { int fd; char tail[4]; };

/* Writes head and body; waits for room in the socket when it is full. */
static int respond(int fd) {
	struct iovec iov[2] = {{head, head_len}, {body, body_len}};
	int n = 2;
	struct iovec *v = iov;
	while (n > 0) {
		ssize_t w = writev(fd, v, n);
		if (w < 0) {
			if (errno != EAGAIN) return -1;
			struct pollfd p = {fd, POLLOUT, 0};
			poll(&p, 1, 1000);
			continue;
		}
		while (n > 0 && (size_t)w >= v->iov_len) { w -= v->iov_len; v++; n--; }
		if (n > 0) { v->iov_base = (char *)v->iov_base + w; v->iov_len -= w; }
	}
	return 0;
}

/* Answers one response per complete request head ("\r\n\r\n") in `buf`. */
static int on_read(struct conn *c, const char *buf, ssize_t len) {
	for (ssize_t i = 0; i < len; i++) {
		memmove(c->tail, c->tail + 1, 3);
		c->tail[3] = buf[i];
		if (memcmp(c->tail, "\r\n\r\n", 4) == 0 && respond(c->fd) < 0) return -1;
	}
	return 0;
}

static void *serve(void *arg) {
	(void)arg;
	int one = 1;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1024)) { perror("listen"); exit(1); }
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	struct epoll_event evs[128];
	char buf[16384];
	for (;;) {
		int n = epoll_wait(ep, evs, 128, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				int fd;
				while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct conn *nc = calloc(1, sizeof *nc);
					nc->fd = fd;
					struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
				continue;
			}
			ssize_t r = recv(c->fd, buf, sizeof buf, 0);
			if (r < 0 && errno == EAGAIN) continue;
			if (r <= 0 || on_read(c, buf, r) < 0) { close(c->fd); free(c); }
		}
	}
	return NULL;
}

int main(int argc, char **argv) {
	if (argc != 4) { fprintf(stderr, "usage: ceiling PORT THREADS FILE\n"); return 2; }
	port = atoi(argv[1]);
	int threads = atoi(argv[2]);
	int fd = open(argv[3], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) { perror(argv[3]); return 1; }
	body_len = st.st_size;
	body = malloc(body_len ? body_len : 1);
	if (pread(fd, body, body_len, 0) != (ssize_t)body_len) { perror("read"); return 1; }
	head_len = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", body_len);
	pthread_t t[64];
	for (int i = 0; i < threads && i < 64; i++) pthread_create(&t[i], NULL, serve, NULL);
	pthread_join(t[0], NULL);
	return 0;
}
