/* A private allocator, as a statically linked mimalloc or jemalloc is: pages come from
 * mmap once, every allocation after that is carved out of them, and nothing imports
 * malloc. memray sees the one mapping, never an allocation. Built with -fno-builtin. */
#include <string.h>
#include <sys/mman.h>

#define ARENA_BYTES (8u << 20)

static unsigned char *arena;

/* Carve n bytes out of the arena, touch them, give them back: a message's working memory. */
long gt_arena_churn(size_t n) {
    if (arena == NULL) {
        void *pages = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (pages == MAP_FAILED) return -1;
        arena = pages;
    }
    if (n > ARENA_BYTES) return -1;
    memset(arena, 0x5a, n);
    return arena[n - 1];
}
