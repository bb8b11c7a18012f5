/* C side of LuaKit: macro wrappers, the call trampoline (the only code that raises
 * or yields on behalf of Swift), the traceback handler, the capped allocator and the
 * watchdog hook. Swift never calls lua_error/luaL_error/lua_yield itself. */
#ifndef CLUASHIMS_H
#define CLUASHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* Status codes a Swift binding returns to the trampoline (n >= 0 means n results). */
#define SHIM_RAISE (-1)             /* error object on top: raise it unchanged */
#define SHIM_RAISE_WHERE (-2)       /* message on top: prefix "chunk:line:" and raise */
#define SHIM_ARGERROR_BASE (-100)   /* SHIM_ARGERROR_BASE - k: luaL_argerror(k, top) */
#define SHIM_YIELD_BASE (-1000)     /* SHIM_YIELD_BASE - n: yield the top n values */

/* Why the watchdog stopped a script (shim_control_killed). */
#define SHIM_KILLED_NONE 0
#define SHIM_KILLED_MEMORY 1
#define SHIM_KILLED_TIMEOUT 2
#define SHIM_KILLED_INTERRUPT 3

/* Instructions between watchdog checks while nothing is wrong. */
#define SHIM_HOOK_COUNT 1000

/* The Swift dispatcher every binding goes through. */
typedef int (*shim_swift_fn)(lua_State *L, void *ctx, int resumed);

/* Per-state limits and counters; opaque to Swift. */
typedef struct shim_control shim_control;

shim_control *shim_control_new(void);
void shim_control_free(shim_control *c);
void shim_control_set_limit(shim_control *c, size_t bytes);
size_t shim_control_used(const shim_control *c);
size_t shim_control_peak(const shim_control *c);
void shim_control_interrupt(shim_control *c);
int shim_control_killed(const shim_control *c);
/* Marks the run killed for its timeout when its deadline has passed (the watchdog cannot
 * see the time inside a finalizer); returns the reason the run was killed, if any. */
int shim_control_check_deadline(shim_control *c);
/* The reason the run of the state that owns L was killed (SHIM_KILLED_NONE if it was not),
 * for bindings, which refuse to run for a killed script; and its message. */
int shim_killed(lua_State *L);
const char *shim_killed_message(int killed);
/* Clears the kill reason and arms the deadline (seconds <= 0: none) for a new host entry. */
void shim_control_begin_run(shim_control *c, double timeout_seconds);

/* Process-wide interrupt request, async-signal-safe (SIGINT/SIGTERM). */
void shim_request_global_interrupt(void);
void shim_clear_global_interrupt(void);
int shim_global_interrupt_requested(void);
/* True once SIGTERM was received (the handlers of shim_install_signal_handlers). */
int shim_terminate_requested(void);
int shim_install_signal_handlers(void);

/* A new state using the capped allocator of c, with panic, warning and watchdog handlers. */
lua_State *shim_newstate(shim_control *c);

/* Opens the sandboxed standard libraries; run it with shim_host_pcall via lua_pushcfunction. */
int shim_open_sandbox(lua_State *L);
/* Registry key of the array of directories `require` searches. */
#define SHIM_SEARCH_DIRS_KEY "LuaKit.searchdirs"
/* Registry key where the message handler leaves the traceback of a non-string error. */
#define SHIM_TRACEBACK_KEY "LuaKit.traceback"
/* Registry key where the message handler leaves "chunk:line" of a non-string error. */
#define SHIM_WHERE_KEY "LuaKit.where"

/* Message handler: tracebacks string messages, records traceback/where for other values. */
int shim_msgh(lua_State *L);
/* Pushes "chunk:line" of the innermost Lua frame of co at or above level, or nil. */
void shim_push_where(lua_State *L, lua_State *co, int level);
/* The current line of the first Lua function at or above `level` (0 when none); allocates nothing. */
int shim_caller_line(lua_State *L, int level);

/* Host entries into Lua: the allocator may refuse only while these run Lua code. */
int shim_host_pcall(lua_State *L, int nargs, int nresults, int msgh);
int shim_host_resume(lua_State *L, lua_State *co, int nargs, int *nresults);
/* Closes a dead or suspended coroutine's pending to-be-closed variables. */
int shim_close_thread(lua_State *co, lua_State *from);

/* Pushes a C closure that calls fn(L, ctx, resumed) and interprets its status. */
void shim_pushbinding(lua_State *L, shim_swift_fn fn, void *ctx);

/* Wrappers for function-like macros and variadic functions. */
static inline int shim_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int shim_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void shim_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void shim_newtable(lua_State *L) { lua_newtable(L); }
static inline void shim_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline void shim_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline void shim_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void shim_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline int shim_getmetatable_named(lua_State *L, const char *name) {
    return luaL_getmetatable(L, name);
}
/* LuaKit types also keep their metatable in the registry under a light-userdata key (the
   Swift type's address), so checking or setting a userdata's type is a pointer lookup rather
   than the string lookup of luaL_testudata/luaL_setmetatable. None of these can raise. */
static inline void shim_keep_metatable(lua_State *L, int metatable, const void *key) {
    lua_pushvalue(L, metatable);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}
static inline void *shim_testudata_keyed(lua_State *L, int index, const void *key) {
    void *block = lua_touserdata(L, index);
    if (block == NULL || !lua_getmetatable(L, index)) return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    int same = lua_rawequal(L, -1, -2);
    lua_settop(L, -3);
    return same ? block : NULL;
}
static inline void shim_setmetatable_keyed(lua_State *L, const void *key) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    lua_setmetatable(L, -2);
}
static inline int shim_registry_get(lua_State *L, const char *key) {
    return lua_getfield(L, LUA_REGISTRYINDEX, key);
}
static inline void shim_registry_set(lua_State *L, const char *key) {
    lua_setfield(L, LUA_REGISTRYINDEX, key);
}
static inline int shim_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
static inline void shim_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
static inline int shim_getref(lua_State *L, int ref) {
    return lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
}
static inline int shim_gc_collect(lua_State *L) { return lua_gc(L, LUA_GCCOLLECT, 0); }
static inline int shim_gc_count_kb(lua_State *L) { return lua_gc(L, LUA_GCCOUNT, 0); }
static inline int shim_loadtext(lua_State *L, const char *buf, size_t len, const char *name) {
    return luaL_loadbufferx(L, buf, len, name, "t");
}

#endif
