extension ReplSession {
    /// Lua helpers the REPL keeps references to (the globals are removed right after).
    /// `_cdsync_repl_eval` compiles a statement (in the form `ReplSession.compile` chose),
    /// runs it and keeps its values; once the host has sent the statement's writes,
    /// `_cdsync_repl_take(true)` copies them into plain tables a host can read: decimals,
    /// references and functions become their text, a write's result becomes
    /// `{id, created, changed}`, cycles and deep nesting are cut. `_cdsync_repl_fields`
    /// lists a table's string keys for completion, using raw access only.
    static let helperSource = #"""
        local load, pack, type, tostring, getmetatable, next, rawget, mathtype, select =
          load, table.pack, type, tostring, getmetatable, next, rawget, math.type, select
        local string_library, globals = string, _G
        local MARKER = "\0cdsync.repl.text"

        local function text(value) return { [MARKER] = value } end

        local prepare
        prepare = function(value, seen, depth)
          local kind = type(value)
          if kind == "string" or kind == "number" or kind == "boolean" or kind == "nil" then
            return value
          end
          local meta = getmetatable(value)
          if kind == "userdata" and tostring(value):sub(1, 11) == "cds.Result:" then
            return { id = value.id, created = value.created, changed = value.changed }
          end
          if kind == "table" and not (type(meta) == "table" and rawget(meta, "__tostring")) then
            if seen[value] then return text("<cycle>") end
            if depth >= 12 then return text("{...}") end
            seen[value] = true
            local copy = {}
            for key, item in next, value do
              local keyKind = type(key)
              if not (keyKind == "string" or mathtype(key) == "integer") then key = "[" .. tostring(key) .. "]" end
              copy[key] = prepare(item, seen, depth + 1)
            end
            seen[value] = nil
            return copy
          end
          if kind == "function" then return text("<function>") end
          if kind == "thread" then return text("<coroutine>") end
          return text(tostring(value))
        end

        local pending = { n = 0 }

        function _cdsync_repl_eval(source, chunkname)
          -- the environment is passed explicitly: the sandbox's load sets a nil one otherwise
          local chunk, message = load(source, chunkname, "t", globals)
          if not chunk then error(message, 0) end
          pending = { n = 0 }
          pending = pack(chunk())
        end

        function _cdsync_repl_take(convert)
          local results = pending
          pending = { n = 0 }
          local copy = { n = convert and results.n or 0 }
          for index = 1, copy.n do copy[index] = prepare(results[index], {}, 0) end
          return copy
        end

        function _cdsync_repl_fields(...)
          local value = _G
          for index = 1, select("#", ...) do
            if type(value) ~= "table" then return {} end
            value = rawget(value, (select(index, ...)))
          end
          if type(value) == "string" then value = string_library end
          local names = {}
          if type(value) ~= "table" then return names end
          for key in next, value do
            if type(key) == "string" then names[#names + 1] = key end
          end
          return names
        end
        """#
}
