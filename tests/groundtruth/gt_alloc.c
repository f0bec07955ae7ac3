/* Ground-truth native allocations for the heap probe: each call allocates, retains or maps
 * an exact number of bytes. Built with -fno-builtin so the compiler keeps every
 * malloc/free pair; memray hooks them through this library's PLT entries. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *retained; /* blocks kept by gt_retain, chained through their first word */

/* malloc n bytes, touch them, free them: n bytes allocated, nothing retained. */
long gt_churn(size_t n) {
    unsigned char *block = malloc(n);
    if (block == NULL) return -1;
    memset(block, 0x5a, n);
    long last = block[n - 1];
    free(block);
    return last;
}

/* malloc n bytes and keep them until gt_release: n bytes allocated and retained. */
long gt_retain(size_t n) {
    void **block = malloc(n < sizeof(void *) ? sizeof(void *) : n);
    if (block == NULL) return -1;
    memset(block, 0x5a, n);
    *block = retained;
    retained = block;
    return 0;
}

/* Free every block gt_retain kept. */
long gt_release(void) {
    long count = 0;
    while (retained != NULL) {
        void *next = *(void **)retained;
        free(retained);
        retained = next;
        count++;
    }
    return count;
}

/* Map n bytes with the raw system call (no libc mmap, no malloc), touch every page and unmap:
 * memory memray cannot see, as a private allocator's would be. */
long gt_invisible(size_t n) {
    long mapped = syscall(SYS_mmap, NULL, n, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == -1) return -1;
    unsigned char *block = (unsigned char *)mapped;
    memset(block, 0x5a, n);
    long last = block[n - 1];
    syscall(SYS_munmap, block, n);
    return last;
}

/* One helper thread, started on first use, that mallocs, touches and frees the bytes it is
 * handed while the caller waits: a backend whose allocations happen on another thread during
 * the message (a worker pool's). */
#include <pthread.h>

static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t helper_wake = PTHREAD_COND_INITIALIZER;
static size_t helper_request; /* bytes asked for; 0 when the helper is idle */
static long helper_done;
static int helper_started;

static void *helper_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&helper_lock);
    for (;;) {
        while (helper_request == 0) pthread_cond_wait(&helper_wake, &helper_lock);
        size_t n = helper_request;
        pthread_mutex_unlock(&helper_lock);
        long last = gt_churn(n);
        pthread_mutex_lock(&helper_lock);
        helper_request = 0;
        helper_done = last;
        pthread_cond_broadcast(&helper_wake);
    }
    return NULL;
}

/* Start the helper thread (outside any measured message: its stack is mapped here). */
long gt_helper_start(void) {
    pthread_mutex_lock(&helper_lock);
    long failed = 0;
    if (!helper_started) {
        pthread_t thread;
        failed = pthread_create(&thread, NULL, helper_main, NULL);
        helper_started = failed == 0;
    }
    pthread_mutex_unlock(&helper_lock);
    return failed ? -1 : 0;
}

/* Have the helper thread allocate and free n bytes; return when it has. */
long gt_helper_churn(size_t n) {
    pthread_mutex_lock(&helper_lock);
    helper_request = n;
    pthread_cond_broadcast(&helper_wake);
    while (helper_request != 0) pthread_cond_wait(&helper_wake, &helper_lock);
    long last = helper_done;
    pthread_mutex_unlock(&helper_lock);
    return last;
}
