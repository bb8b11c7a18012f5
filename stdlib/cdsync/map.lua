-- cdsync.map: field mapping and type coercion from source rows to record fields.
--
-- Every coercer treats nil, cds.null and blank text as "empty" and returns cds.null
-- for it, so a blank source cell clears the target column. Bad input raises
-- {code = "map.invalid_value", message = ..., value = ...}.

local iso_date = require("cdsync.iso_date")

local map = {}

-- Quotes a value for an error message: strings in double quotes, others via tostring.
local function show(value)
  if type(value) == "string" then
    return (string.format("%q", value):gsub("\\\n", "\\n"))
  end
  return tostring(value)
end

local function fail(code, message, value)
  if value ~= nil and type(value) ~= "string" and type(value) ~= "number" then
    value = tostring(value)
  end
  error({ code = code, message = message, value = value }, 3)
end

local function trim(text)
  return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function is_null(value)
  return value == nil or (cds ~= nil and rawequal(value, cds.null))
end

-- Host objects (decimals, references) are userdata; tostring gives a decimal's exact text.
local function is_object(value)
  return type(value) == "userdata" or type(value) == "table"
end

-- Empty values (nil, cds.null, blank text) become cds.null; others return nil.
local function empty(value)
  if is_null(value) or (type(value) == "string" and value:find("^%s*$")) then
    return cds.null
  end
  return nil
end

-- Number of characters in UTF-8 text (bytes when the text is not valid UTF-8).
local function char_count(text)
  return utf8.len(text) or #text
end

-- The first n characters of UTF-8 text.
local function first_chars(text, n)
  local stop = utf8.offset(text, n + 1)
  if stop == nil or utf8.len(text) == nil then
    return text:sub(1, n)
  end
  return text:sub(1, stop - 1)
end

local function decimal_text(text)
  return text:find("^[+-]?%d+$") or text:find("^[+-]?%d*%.%d+$")
end

-- Text: trimmed, blank -> cds.null; options {trim = true, empty_as_null = true, max_length = n, truncate = false}.
function map.text(value, options)
  options = options or {}
  if is_null(value) then
    return cds.null
  end
  local kind = type(value)
  local text
  if kind == "string" then
    text = value
  elseif kind == "number" then
    text = math.type(value) == "integer" and string.format("%d", value) or tostring(value)
  elseif kind == "boolean" then
    text = tostring(value)
  elseif is_object(value) and decimal_text(tostring(value)) then
    text = tostring(value) -- a cds.decimal
  else
    fail("map.invalid_value", "cannot use a " .. kind .. " as text", value)
  end
  if options.trim ~= false then
    text = trim(text)
  end
  if text == "" and options.empty_as_null ~= false then
    return cds.null
  end
  local limit = options.max_length
  if limit ~= nil and char_count(text) > limit then
    if not options.truncate then
      local start = char_count(text) > 40 and (show(first_chars(text, 40)) .. "…") or show(text)
      fail("map.too_long", string.format("text of %d characters is longer than max_length %d: %s",
        char_count(text), limit, start), value)
    end
    text = first_chars(text, limit)
  end
  return text
end

-- Whole number from an integer, an integral float, or integer text ("-42"); blank -> cds.null.
function map.integer(value)
  local blank = empty(value)
  if blank then
    return blank
  end
  if type(value) == "number" then
    local integer = math.tointeger(value)
    if integer == nil then
      fail("map.invalid_value", "not a whole number: " .. show(value), value)
    end
    return integer
  end
  local text = type(value) == "string" and trim(value) or (is_object(value) and tostring(value)) or nil
  if text == nil or not text:find("^[+-]?%d+$") then
    fail("map.invalid_value", "not a whole number: " .. show(value), value)
  end
  local integer = math.tointeger(tonumber(text))
  if integer == nil then
    fail("map.invalid_value", "whole number out of range: " .. show(value), value)
  end
  return integer
end

-- Exact decimal (cds.decimal) from text like "12.50" or an integer; refuses floats and "1,5"; blank -> cds.null.
function map.decimal(value)
  local blank = empty(value)
  if blank then
    return blank
  end
  local kind = type(value)
  if kind == "number" then
    if math.type(value) ~= "integer" then
      fail("map.invalid_value", "refusing the float " .. show(value)
        .. " (it may have lost precision); pass the decimal as text, e.g. \"12.50\"", value)
    end
    return cds.decimal(value)
  end
  if is_object(value) and decimal_text(tostring(value)) then
    return value -- already a cds.decimal
  end
  local text = kind == "string" and trim(value) or nil
  if text == nil or not decimal_text(text) then
    fail("map.invalid_value", "not a decimal number: " .. show(value)
      .. " (use digits with an optional sign and a '.' separator, e.g. \"-1234.50\")", value)
  end
  local ok, result = pcall(cds.decimal, text)
  if not ok then
    -- more digits than a decimal holds (18)
    fail("map.invalid_value", "not a decimal cdsync can hold: " .. show(value) .. " (" .. tostring(result) .. ")", value)
  end
  return result
end

local boolean_words = { ["true"] = true, yes = true, y = true, ["1"] = true,
  ["false"] = false, no = false, n = false, ["0"] = false }

-- Boolean from true/false, 1/0, or text true/false/yes/no/y/n/1/0 (any case); blank -> cds.null.
function map.boolean(value)
  local blank = empty(value)
  if blank then
    return blank
  end
  if type(value) == "boolean" then
    return value
  end
  if value == 1 or value == 0 then
    return value == 1
  end
  local result = nil
  if type(value) == "string" then
    result = boolean_words[trim(value):lower()]
  end
  if result == nil then
    fail("map.invalid_value", "not a yes/no value: " .. show(value)
      .. " (allowed: true, false, yes, no, y, n, 1, 0)", value)
  end
  return result
end

local function sorted_labels(choices)
  local labels = {}
  for label in pairs(choices) do
    labels[#labels + 1] = tostring(label)
  end
  table.sort(labels)
  return table.concat(labels, ", ")
end

-- Choice value from its label, e.g. map.choice("Active", {active = 0, inactive = 1}); labels match ignoring case.
function map.choice(value, choices)
  if type(choices) ~= "table" then
    fail("map.invalid_spec", "map.choice needs a table of label = value, got " .. type(choices))
  end
  local blank = empty(value)
  if blank then
    return blank
  end
  if type(value) == "string" then
    local wanted = trim(value)
    if choices[wanted] ~= nil then
      return choices[wanted]
    end
    for label, result in pairs(choices) do
      if type(label) == "string" and label:lower() == wanted:lower() then
        return result
      end
    end
  else
    for _, result in pairs(choices) do
      if rawequal(result, value) then
        return result -- already a choice value (as the table gives it: 1.0 comes back as 1)
      end
    end
  end
  fail("map.invalid_value", "unknown choice " .. show(value) .. " (allowed: " .. sorted_labels(choices) .. ")", value)
end

-- ISO 8601 date ("2024-02-29") or date-time ("2024-02-29T13:45:00Z") text, validated; blank -> cds.null.
function map.date(value)
  local blank = empty(value)
  if blank then
    return blank
  end
  local text = iso_date.normalize(type(value) == "string" and trim(value) or nil)
  if text == nil then
    fail("map.invalid_value", "not an ISO 8601 date or date-time with a zone: " .. show(value)
      .. " (expected e.g. \"2024-02-29\", \"2024-02-29T13:45:00Z\" or \"2024-02-29T13:45:00+01:00\")", value)
  end
  return text
end

-- Returns a coercer: value -> cds.ref(entity, {[key_column] = value}) (or by GUID when key_column is nil); blank -> cds.null.
function map.ref(entity, key_column)
  if type(entity) ~= "string" then
    fail("map.invalid_spec", "map.ref needs an entity name, got " .. type(entity))
  end
  return function(value)
    local blank = empty(value)
    if blank then
      return blank
    end
    if type(value) == "string" then
      value = trim(value)
    end
    local ok, result
    if key_column == nil then
      ok, result = pcall(cds.ref, entity, value)
    else
      ok, result = pcall(cds.ref, entity, { [key_column] = value })
    end
    if not ok then
      -- not a GUID, or not a key value
      fail("map.invalid_value", "not a reference to " .. entity .. ": " .. show(value) .. " ("
        .. tostring(type(result) == "table" and result.message or result) .. ")", value)
    end
    return result
  end
end

-- Applies one spec entry to a row; returns the target value (nil leaves the column out).
local function apply_entry(row, target, entry)
  local kind = type(entry)
  if kind == "string" then
    return row[entry], entry
  elseif kind == "function" then
    return entry(row), nil
  elseif kind == "table" and type(entry.from) == "string" then
    local source = row[entry.from]
    -- a source column the row does not have leaves the target out, as a plain name does (a
    -- misspelt `from` would otherwise clear the column in every record)
    if entry.as == nil or source == nil then
      return source, entry.from
    end
    return entry.as(source, entry.options), entry.from
  end
  fail("map.invalid_spec", string.format("spec for column '%s' must be a source column name, "
    .. "a function(row) or {from = \"column\", as = coercer}; got %s", target, show(entry)))
end

-- Adds the target column and source value to an error raised while mapping one column.
local function column_error(err, row, target, spec)
  local entry = spec[target]
  local from = type(entry) == "table" and entry.from or (type(entry) == "string" and entry) or nil
  local where = "column '" .. target .. "'"
  if from then
    where = where .. " (from '" .. from .. "' = " .. show(row[from]) .. ")"
  end
  if type(err) == "table" then
    local copy = {}
    for name, field in pairs(err) do
      copy[name] = field
    end
    copy.message = where .. ": " .. tostring(err.message)
    copy.column = target
    return copy
  end
  return where .. ": " .. tostring(err)
end

-- Builds a fields table from a source row: spec maps target column -> source name, function(row) or {from =, as =, options =}.
function map.record(row, spec)
  if type(row) ~= "table" or type(spec) ~= "table" then
    fail("map.invalid_spec", "map.record(row, spec) needs two tables, got " .. type(row) .. " and " .. type(spec))
  end
  local targets = {}
  for target in pairs(spec) do
    targets[#targets + 1] = target
  end
  table.sort(targets) -- a stable order, so the first bad column reported is always the same
  local fields = {}
  for _, target in ipairs(targets) do
    local ok, result = pcall(apply_entry, row, target, spec[target])
    if not ok then
      error(column_error(result, row, target, spec), 2)
    end
    fields[target] = result
  end
  return fields
end

return map
