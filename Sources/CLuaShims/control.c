/* Capped allocator, watchdog hook, interrupt flags and host entry points. */
#define _POSIX_C_SOURCE 200809L
#include "cluashims.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct shim_control {
    size_t used;
    size_t peak;
    size_t limit;        /* 0 = unlimited */
    int host_depth;      /* > 0 while Swift (not Lua) runs: never refuse then */
    int killed;          /* SHIM_KILLED_* for the current host entry */
    int64_t deadline_ns; /* 0 = no deadline */
    atomic_int interrupt;
    /* The allocation refused last, while Lua may still retry it after an emergency
     * collection (the next allocation it asks for): if that retry fits, the run goes on. */
    int retry_pending;
    void *refused_ptr;
    size_t refused_size;
};

static volatile sig_atomic_t global_interrupt = 0;
static volatile sig_atomic_t terminate_requested = 0;

shim_control *shim_control_new(void) {
    shim_control *c = calloc(1, sizeof(shim_control));
    if (c == NULL) return NULL;
    c->host_depth = 1; /* the host owns the state until it enters Lua */
    atomic_init(&c->interrupt, 0);
    return c;
}

void shim_control_free(shim_control *c) { free(c); }
void shim_control_set_limit(shim_control *c, size_t bytes) { c->limit = bytes; }
size_t shim_control_used(const shim_control *c) { return c->used; }
size_t shim_control_peak(const shim_control *c) { return c->peak; }
int shim_control_killed(const shim_control *c) { return c->killed; }

void shim_control_interrupt(shim_control *c) {
    atomic_store_explicit(&c->interrupt, 1, memory_order_relaxed);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void shim_control_begin_run(shim_control *c, double timeout_seconds) {
    c->killed = SHIM_KILLED_NONE;
    c->retry_pending = 0;
    c->deadline_ns = timeout_seconds > 0 ? now_ns() + (int64_t)(timeout_seconds * 1e9) : 0;
}

void shim_request_global_interrupt(void) { global_interrupt = 1; }
void shim_clear_global_interrupt(void) { global_interrupt = 0; }
int shim_global_interrupt_requested(void) { return global_interrupt != 0; }

static void on_signal(int sig) {
    if (sig == SIGTERM) terminate_requested = 1;
    global_interrupt = 1;
}

int shim_terminate_requested(void) { return terminate_requested != 0; }

int shim_install_signal_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0) return -1;
    return sigaction(SIGTERM, &sa, NULL);
}

static shim_control *control_of(lua_State *L) {
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return (shim_control *)ud;
}

/* Refuses growth past the limit only while Lua code runs (host_depth == 0), so an
 * ERRMEM longjmp can never cross a Swift frame. A refusal kills the run, unless Lua's
 * emergency collection then frees enough for the same request: Lua asks again right after
 * it (nothing else allocates during an emergency collection), and if that fits, the kill is
 * lifted. A killed run stays killed even when the script catches the error. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    shim_control *c = (shim_control *)ud;
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        c->used -= old;
        return NULL;
    }
    int retry = c->retry_pending && ptr == c->refused_ptr && nsize == c->refused_size;
    c->retry_pending = 0;
    if (nsize > old && c->limit != 0 && c->host_depth == 0 && c->used - old + nsize > c->limit) {
        if (c->killed == SHIM_KILLED_NONE) {
            c->killed = SHIM_KILLED_MEMORY;
            c->retry_pending = 1;
            c->refused_ptr = ptr;
            c->refused_size = nsize;
        }
        return NULL;
    }
    if (retry && c->killed == SHIM_KILLED_MEMORY) c->killed = SHIM_KILLED_NONE;
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    c->used = c->used - old + nsize;
    if (c->used > c->peak) c->peak = c->used;
    return p;
}

const char *shim_killed_message(int killed) {
    switch (killed) {
    case SHIM_KILLED_MEMORY: return "not enough memory (script memory limit reached)";
    case SHIM_KILLED_TIMEOUT: return "script timed out";
    default: return "script interrupted";
    }
}

/* Once a run is killed the hook fires on every instruction, so a pcall in the script
 * can catch the error but never get past its next instruction. */
static void watchdog(lua_State *L, lua_Debug *ar) {
    (void)ar;
    shim_control *c = control_of(L);
    if (c->killed == SHIM_KILLED_NONE) {
        if (atomic_exchange_explicit(&c->interrupt, 0, memory_order_relaxed) || global_interrupt) {
            c->killed = SHIM_KILLED_INTERRUPT;
        } else if (c->deadline_ns != 0 && now_ns() >= c->deadline_ns) {
            c->killed = SHIM_KILLED_TIMEOUT;
        } else {
            if (lua_gethookcount(L) != SHIM_HOOK_COUNT)
                lua_sethook(L, watchdog, LUA_MASKCOUNT, SHIM_HOOK_COUNT);
            return;
        }
    }
    if (lua_gethookcount(L) != 1) lua_sethook(L, watchdog, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", shim_killed_message(c->killed));
}

static int on_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "cdsync: unprotected Lua error: %s\n", msg != NULL ? msg : "(error object is not a string)");
    fflush(stderr);
    return 0; /* Lua aborts */
}

static void on_warning(void *ud, const char *msg, int tocont) {
    static int continuing = 0;
    (void)ud;
    if (!continuing && !tocont && msg[0] == '@') return; /* control message */
    fprintf(stderr, "%s%s%s", continuing ? "" : "Lua warning: ", msg, tocont ? "" : "\n");
    continuing = tocont;
}

lua_State *shim_newstate(shim_control *c) {
    lua_State *L = lua_newstate(capped_alloc, c);
    if (L == NULL) return NULL;
    lua_atpanic(L, on_panic);
    lua_setwarnf(L, on_warning, NULL);
    lua_sethook(L, watchdog, LUA_MASKCOUNT, SHIM_HOOK_COUNT);
    return L;
}

int shim_control_check_deadline(shim_control *c) {
    if (c->killed == SHIM_KILLED_NONE && c->deadline_ns != 0 && now_ns() >= c->deadline_ns) c->killed = SHIM_KILLED_TIMEOUT;
    return c->killed;
}

int shim_killed(lua_State *L) { return control_of(L)->killed; }

int shim_host_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    shim_control *c = control_of(L);
    int saved = c->host_depth;
    c->host_depth = 0;
    int status = lua_pcall(L, nargs, nresults, msgh);
    c->host_depth = saved;
    return status;
}

int shim_host_resume(lua_State *L, lua_State *co, int nargs, int *nresults) {
    shim_control *c = control_of(L);
    int saved = c->host_depth;
    c->host_depth = 0;
    int status = lua_resume(co, L, nargs, nresults);
    c->host_depth = saved;
    return status;
}

int shim_close_thread(lua_State *co, lua_State *from) {
#if LUA_VERSION_RELEASE_NUM >= 50406
    return lua_closethread(co, from);
#else
    (void)from;
    return lua_resetthread(co);
#endif
}

/* Used by the trampoline: Swift runs with the allocator in "never refuse" mode. */
void shim_enter_host(lua_State *L) { control_of(L)->host_depth++; }
void shim_leave_host(lua_State *L) { control_of(L)->host_depth--; }
