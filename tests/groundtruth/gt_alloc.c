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
