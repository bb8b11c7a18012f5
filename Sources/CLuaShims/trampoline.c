/* The call trampoline and the message handler. Only this C code raises or yields on
 * behalf of Swift, and only after the Swift frame has returned. */
#include "cluashims.h"

void shim_enter_host(lua_State *L);
void shim_leave_host(lua_State *L);

static int call_swift(lua_State *L, int resumed) {
    shim_swift_fn fn = (shim_swift_fn)lua_touserdata(L, lua_upvalueindex(1));
    void *ctx = lua_touserdata(L, lua_upvalueindex(2));
    shim_enter_host(L);
    int status = fn(L, ctx, resumed);
    shim_leave_host(L);
    return status;
}

static int continuation(lua_State *L, int status, lua_KContext k);

static int interpret(lua_State *L, int r) {
    if (r >= 0) return r;
    if (r == SHIM_RAISE) return lua_error(L);
    if (r == SHIM_RAISE_WHERE) {
        if (!lua_isstring(L, -1)) return lua_error(L);
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
        return lua_error(L);
    }
    if (r <= SHIM_YIELD_BASE) return lua_yieldk(L, SHIM_YIELD_BASE - r, 0, continuation);
    if (r <= SHIM_ARGERROR_BASE) {
        const char *msg = lua_tostring(L, -1);
        return luaL_argerror(L, SHIM_ARGERROR_BASE - r, msg != NULL ? msg : "?");
    }
    return luaL_error(L, "binding returned invalid status %d", r);
}

static int continuation(lua_State *L, int status, lua_KContext k) {
    (void)status;
    (void)k;
    return interpret(L, call_swift(L, 1));
}

static int trampoline(lua_State *L) { return interpret(L, call_swift(L, 0)); }

void shim_pushbinding(lua_State *L, shim_swift_fn fn, void *ctx) {
    lua_pushlightuserdata(L, (void *)fn);
    lua_pushlightuserdata(L, ctx);
    lua_pushcclosure(L, trampoline, 2);
}

void shim_push_where(lua_State *L, lua_State *co, int level) {
    lua_Debug ar;
    for (; lua_getstack(co, level, &ar); level++) {
        if (lua_getinfo(co, "Sl", &ar) && ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushnil(L);
}

int shim_caller_line(lua_State *L, int level) {
    lua_Debug ar;
    for (; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "l", &ar) && ar.currentline > 0) return ar.currentline;
    }
    return 0;
}

/* String messages get a traceback appended. Other error values (tables from
 * error{code=...}) pass through unchanged; their traceback and position are left in
 * the registry for the host to read. */
int shim_msgh(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING) {
        luaL_traceback(L, L, lua_tostring(L, 1), 1);
        return 1;
    }
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, SHIM_TRACEBACK_KEY);
    shim_push_where(L, L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, SHIM_WHERE_KEY);
    lua_settop(L, 1);
    return 1;
}
