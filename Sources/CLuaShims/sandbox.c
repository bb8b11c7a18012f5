/* The sandboxed standard library: no io, no process control, no C loaders, no
 * bytecode, and a `require` that reads Lua text from configured directories only. */
#include "cluashims.h"

#include <string.h>

/* load(chunk, name, mode, env) with mode forced to text. The env argument is
 * passed on only when the caller gave one: the real load treats an explicit nil
 * as "no environment", which would leave the chunk without globals. */
static int text_only_load(lua_State *L) {
    int nargs = lua_gettop(L) >= 4 ? 4 : 3;
    lua_settop(L, nargs);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, nargs, LUA_MULTRET);
    return lua_gettop(L);
}

/* Module names are dot-separated words: no slashes, no "..", no leading dot. */
static int valid_module_name(const char *name) {
    if (name[0] == '\0' || name[0] == '.') return 0;
    for (const char *p = name; *p != '\0'; p++) {
        char ch = *p;
        int word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '_' || ch == '-';
        if (ch == '.' && (p[1] == '.' || p[1] == '\0')) return 0;
        if (!word && ch != '.') return 0;
    }
    return 1;
}

/* Returns 1 with the loaded chunk and its path pushed, 0 if the file is absent. */
static int try_load(lua_State *L, const char *dir, const char *rel, const char *suffix) {
    const char *path = lua_pushfstring(L, "%s/%s%s", dir, rel, suffix);
    int status = luaL_loadfilex(L, path, "t");
    if (status == LUA_OK) {
        lua_insert(L, -2); /* chunk, path */
        return 1;
    }
    if (status == LUA_ERRFILE) {
        lua_pop(L, 2);
        return 0;
    }
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", lua_tostring(L, 1), path,
                      lua_tostring(L, -1));
}

static int text_searcher(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    if (!valid_module_name(name)) {
        lua_pushfstring(L, "no module '%s' (invalid module name)", name);
        return 1;
    }
    const char *rel = luaL_gsub(L, name, ".", "/");
    lua_getfield(L, LUA_REGISTRYINDEX, SHIM_SEARCH_DIRS_KEY);
    int dirs = lua_gettop(L);
    lua_Integer n = lua_istable(L, dirs) ? (lua_Integer)lua_rawlen(L, dirs) : 0;
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, dirs, i) != LUA_TSTRING) {
            lua_pop(L, 1);
            continue;
        }
        const char *dir = lua_tostring(L, -1);
        if (try_load(L, dir, rel, ".lua") || try_load(L, dir, rel, "/init.lua")) return 2;
        lua_pop(L, 1);
    }
    lua_pushfstring(L, "no file '%s.lua' in the script search directories", rel);
    return 1;
}

static void keep_fields(lua_State *L, int from, const char *const *names) {
    lua_newtable(L);
    for (; *names != NULL; names++) {
        lua_getfield(L, from, *names);
        lua_setfield(L, -2, *names);
    }
}

/* Opens lib as a global (or only into package.loaded when keep != NULL, then
 * publishes a table with just the listed functions under the same name). */
static void open_lib(lua_State *L, const char *name, lua_CFunction open, const char *const *keep) {
    luaL_requiref(L, name, open, keep == NULL);
    if (keep != NULL) {
        int full = lua_gettop(L);
        keep_fields(L, full, keep);
        lua_pushvalue(L, -1);
        lua_setglobal(L, name);
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_insert(L, -2);
        lua_setfield(L, -2, name);
        lua_pop(L, 1);
    }
    lua_settop(L, 0);
}

static void restrict_base(lua_State *L) {
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    lua_getglobal(L, "load");
    lua_pushcclosure(L, text_only_load, 1);
    lua_setglobal(L, "load");
}

/* require(name): Lua's own require reads the name as a C string, so "mymod\0x" would load
 * mymod; a name holding a NUL is an error instead. */
static int checked_require(lua_State *L) {
    size_t length;
    const char *name = luaL_checklstring(L, 1, &length);
    if (strlen(name) != length) return luaL_error(L, "module name '%s...' holds a NUL character", name);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static void restrict_package(lua_State *L) {
    lua_getglobal(L, "package");
    int pkg = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, pkg, "loadlib");
    lua_pushnil(L);
    lua_setfield(L, pkg, "searchpath");
    lua_pushliteral(L, "");
    lua_setfield(L, pkg, "cpath");
    lua_pushliteral(L, "");
    lua_setfield(L, pkg, "path");
    lua_getfield(L, pkg, "searchers");
    lua_rawgeti(L, -1, 1); /* the preload searcher */
    lua_createtable(L, 2, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushcfunction(L, text_searcher);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, pkg, "searchers");
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, SHIM_SEARCH_DIRS_KEY);
    lua_getglobal(L, "require");
    lua_pushcclosure(L, checked_require, 1);
    lua_setglobal(L, "require");
    lua_settop(L, 0);
}

int shim_open_sandbox(lua_State *L) {
    static const char *const os_keep[] = {"time", "clock", "date", "getenv", NULL};
    static const char *const debug_keep[] = {"traceback", NULL};
    lua_settop(L, 0);
    open_lib(L, LUA_GNAME, luaopen_base, NULL);
    open_lib(L, LUA_LOADLIBNAME, luaopen_package, NULL);
    open_lib(L, LUA_COLIBNAME, luaopen_coroutine, NULL);
    open_lib(L, LUA_TABLIBNAME, luaopen_table, NULL);
    open_lib(L, LUA_STRLIBNAME, luaopen_string, NULL);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math, NULL);
    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8, NULL);
    open_lib(L, LUA_OSLIBNAME, luaopen_os, os_keep);
    open_lib(L, LUA_DBLIBNAME, luaopen_debug, debug_keep);
    restrict_base(L);
    restrict_package(L);
    return 0;
}
