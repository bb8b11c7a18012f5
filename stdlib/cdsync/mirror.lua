-- cdsync.mirror: delete or deactivate records the source no longer has, with guards.
--
-- Keys are compared the way the store compares alternate keys: text ignoring ASCII case,
-- numbers by their decimal text. Nothing is written until every guard has passed.

local mirror = {}

local DEFAULT_MAX_DELETES = 0.1

local function fail(code, message, fields)
  local err = fields or {}
  err.code, err.message = code, message
  error(err, 3)
end

-- The comparison form of a key: lower-case text; nil for nil, cds.null and tables.
local function normal_key(key)
  if type(key) == "string" then
    return key:lower()
  elseif math.type(key) == "integer" then
    return string.format("%d", key)
  elseif math.type(key) == "float" then
    local integer = math.tointeger(key)
    return integer and string.format("%d", integer) or tostring(key)
  elseif type(key) == "userdata" and not (cds ~= nil and rawequal(key, cds.null)) then
    return tostring(key):lower() -- e.g. a decimal key
  end
  return nil
end

local key_set_methods = {}
key_set_methods.__index = key_set_methods

-- Adds a key (nil and cds.null are ignored); returns true when it was new.
function key_set_methods:add(key)
  local normal = normal_key(key)
  if normal == nil or self.keys[normal] then
    return false
  end
  self.keys[normal] = true
  self.size = self.size + 1
  return true
end

-- True when the set holds the key (text compared ignoring ASCII case).
function key_set_methods:has(key)
  local normal = normal_key(key)
  return normal ~= nil and self.keys[normal] == true
end

-- Number of distinct keys added.
function key_set_methods:count()
  return self.size
end

-- A set to collect source keys while loading: set:add(k), set:has(k), set:count().
-- Inside cdsync it is the host's native set (cds.key_set, also what csv.keys returns).
function mirror.key_set()
  if cds ~= nil and cds.key_set ~= nil then
    return cds.key_set()
  end
  return setmetatable({ keys = {}, size = 0 }, key_set_methods)
end

-- True for the host's native key sets (cds.key_set(), csv.keys(...)).
local function is_native_set(source)
  return type(source) == "userdata" and tostring(source):find("^cds%.KeySet") ~= nil
end

-- Turns the source option (a key_set, an array of keys, or a set table key -> true) into a key_set.
local function source_set(source)
  if getmetatable(source) == key_set_methods or is_native_set(source) then
    return source
  end
  if type(source) ~= "table" then
    fail("mirror.invalid_option", "source must be a table of keys or a mirror.key_set(), got " .. type(source))
  end
  local set = mirror.key_set()
  if source[1] ~= nil and source[1] ~= true then
    for _, key in ipairs(source) do -- an array of keys
      set:add(key)
    end
  else
    for key, present in pairs(source) do -- a set: key -> true
      if present then
        set:add(key)
      end
    end
  end
  return set
end

-- The number of rows the guard allows: an integer count, or a fraction (0..1) of the existing rows.
local function deletion_limit(max_deletes, considered)
  if math.type(max_deletes) == "integer" and max_deletes >= 0 then
    return max_deletes
  end
  if math.type(max_deletes) == "float" and max_deletes >= 0 and max_deletes <= 1 then
    -- The small tolerance keeps 0.29 * 100 from counting as 28.999...
    return math.floor(max_deletes * considered + 1e-9)
  end
  fail("mirror.invalid_option", "max_deletes must be a whole number of rows or a fraction between 0.0 and 1.0, got "
    .. tostring(max_deletes))
end

local function check_options(entity, options)
  if type(entity) ~= "string" then
    fail("mirror.invalid_option", "mirror.sync needs an entity name, got " .. type(entity))
  end
  if type(options) ~= "table" or type(options.key) ~= "string" then
    fail("mirror.invalid_option", "mirror.sync needs options with key = \"<key column>\"")
  end
  if options.action ~= "delete" and options.action ~= "deactivate" then
    fail("mirror.invalid_option", "action must be \"delete\" or \"deactivate\", got " .. tostring(options.action))
  end
  if options.filter ~= nil and type(options.filter) ~= "string" then
    fail("mirror.invalid_option", "filter must be OData filter text, got " .. type(options.filter))
  end
end

-- The state (and its default status) a deactivated row moves to: the entity's first
-- state other than the active one (value 0).
local function inactive_state(entity, description)
  local states = description.states
  if type(states) ~= "table" or #states == 0 then
    fail("mirror.invalid_option", "action = \"deactivate\" needs an entity with a state model, and "
      .. entity .. " has none; use action = \"delete\"")
  end
  for _, state in ipairs(states) do
    if state.value ~= 0 then
      return { statecode = state.value, statuscode = state.default_status }
    end
  end
  fail("mirror.invalid_option", "action = \"deactivate\" needs an inactive state, and " .. entity
    .. " has only the active state 0")
end

-- The query for the existing rows (key, primary id, and state when deactivating).
local function existing_rows(entity, options, description)
  local primary_id = description.primary_id
  local select = { options.key }
  if primary_id and primary_id ~= options.key then
    select[#select + 1] = primary_id
  end
  if options.action == "deactivate" then
    select[#select + 1] = "statecode"
  end
  return { select = select, filter = options.filter }, primary_id
end

-- The rows the source no longer has, with what to do to each.
local function plan(entity, query, primary_id, source, options)
  local result = { considered = 0, missing = 0, deleted = 0, deactivated = 0, unkeyed = 0, keys = {} }
  local targets = {}
  if is_native_set(source) and cds.missing ~= nil then
    -- the host compares in Swift and hands back only the missing rows
    local found = cds.missing(entity, source, { key = options.key, filter = options.filter,
      select = options.action == "deactivate" and { "statecode" } or nil })
    result.considered, result.unkeyed = found.considered, found.unkeyed
    for _, row in ipairs(found.missing) do
      result.missing = result.missing + 1
      result.keys[#result.keys + 1] = row.key
      local already_inactive = options.action == "deactivate" and row.statecode ~= nil and row.statecode ~= 0
      if not already_inactive then
        targets[#targets + 1] = (primary_id and row.id) or { [options.key] = row.key }
      end
    end
    return result, targets
  end
  -- cds.rows streams page by page, so a large table is never held in memory at once
  for row in cds.rows(entity, query) do
    result.considered = result.considered + 1
    local key = row[options.key]
    if normal_key(key) == nil then
      result.unkeyed = result.unkeyed + 1 -- rows without a key cannot be matched, so they are left alone
    elseif not source:has(key) then
      result.missing = result.missing + 1
      result.keys[#result.keys + 1] = key
      local already_inactive = options.action == "deactivate" and row.statecode ~= nil and row.statecode ~= 0
      if not already_inactive then
        targets[#targets + 1] = (primary_id and row[primary_id]) or { [options.key] = key }
      end
    end
  end
  return result, targets
end

local function sample(keys)
  local shown = {}
  for i = 1, math.min(#keys, 5) do
    shown[i] = tostring(keys[i])
  end
  return table.concat(shown, ", ") .. (#keys > 5 and ", …" or "")
end

-- Deletes or deactivates rows of entity whose key the source lacks; see README for options. Returns counts and the missing keys.
function mirror.sync(entity, options)
  check_options(entity, options)
  local source = source_set(options.source)
  if source:count() == 0 and not options.allow_empty then
    fail("mirror.empty_source", "the source has no keys, so every " .. entity
      .. " would be removed; pass allow_empty = true if that is intended")
  end
  local description = cds.describe(entity)
  local deactivated_state = options.action == "deactivate" and inactive_state(entity, description) or nil
  local query, primary_id = existing_rows(entity, options, description)
  local result, targets = plan(entity, query, primary_id, source, options)
  local limit = deletion_limit(options.max_deletes or DEFAULT_MAX_DELETES, result.considered)
  if #targets > limit then
    fail("mirror.too_many_deletes", string.format("mirror would %s %d of %d %s rows, more than max_deletes "
      .. "allows (%d); nothing was written; missing keys: %s", options.action, #targets, result.considered,
      entity, limit, sample(result.keys)), { count = #targets, limit = limit })
  end
  result.dry_run = options.dry_run == true
  if result.dry_run then
    return result
  end
  for _, target in ipairs(targets) do
    if options.action == "delete" then
      cds.delete(entity, target)
      result.deleted = result.deleted + 1
    else
      cds.update(entity, target, { statecode = deactivated_state.statecode, statuscode = deactivated_state.statuscode })
      result.deactivated = result.deactivated + 1
    end
  end
  cds.flush() -- so a failed write is reported here, not at some later unrelated call
  return result
end

return mirror
