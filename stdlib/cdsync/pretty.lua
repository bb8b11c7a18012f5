-- cdsync.pretty: readable text for Lua values and aligned tables of records.

local pretty = {}

local INLINE_WIDTH = 72 -- arrays of scalars that fit in this many characters stay on one line

local lua_keywords = {}
for word in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do
  lua_keywords[word] = true
end

local function is_null(value)
  return cds ~= nil and rawequal(value, cds.null)
end

local escapes = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ['"'] = '\\"', ["\\"] = "\\\\" }

local function quote(text)
  return '"' .. text:gsub('[%c"\\]', function(char)
    return escapes[char] or string.format("\\%03d", char:byte())
  end) .. '"'
end

local function has_tostring(value)
  local meta = getmetatable(value)
  return type(meta) == "table" and meta.__tostring ~= nil
end

-- Text for anything that is not a plain table; nil for plain tables.
local function scalar(value)
  local kind = type(value)
  if kind == "string" then
    return quote(value)
  elseif kind == "number" then
    return math.type(value) == "integer" and string.format("%d", value) or tostring(value)
  elseif kind == "nil" or kind == "boolean" then
    return tostring(value)
  elseif is_null(value) then
    return "cds.null"
  elseif kind == "userdata" or (kind == "table" and has_tostring(value)) then
    return tostring(value) -- decimals print their exact text, references their target
  elseif kind == "table" then
    return nil
  end
  return "<" .. kind .. ">"
end

-- Numbers first (by value), then strings (alphabetically), then everything else (by text).
local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    local rank = { number = 1, string = 2 }
    return (rank[ta] or 3) < (rank[tb] or 3) or ((rank[ta] or 3) == (rank[tb] or 3) and ta < tb)
  end
  if ta == "number" or ta == "string" then
    return a < b
  end
  return tostring(a) < tostring(b)
end

local function key_text(key)
  if type(key) == "string" and key:find("^[%a_][%w_]*$") and not lua_keywords[key] then
    return key
  end
  return "[" .. (scalar(key) or "<table>") .. "]"
end

-- The length n when the table is exactly the sequence 1..n; nil otherwise.
local function sequence_length(value)
  local count = 0
  for _ in pairs(value) do
    count = count + 1
  end
  if count > 0 and #value == count then
    return count
  end
  return nil
end

local format_value

local function format_sequence(value, length, options, depth, seen)
  local items, inline = {}, true
  for i = 1, length do
    items[i] = format_value(value[i], options, depth + 1, seen)
    inline = inline and scalar(value[i]) ~= nil
  end
  local one_line = "{" .. table.concat(items, ", ") .. "}"
  if inline and #one_line + #options.indent * depth <= INLINE_WIDTH then
    return one_line
  end
  local pad = options.indent:rep(depth + 1)
  return "{\n" .. pad .. table.concat(items, ",\n" .. pad) .. "\n" .. options.indent:rep(depth) .. "}"
end

local function format_table(value, options, depth, seen)
  if next(value) == nil then
    return "{}"
  end
  if seen[value] then
    return "<cycle>"
  end
  if depth >= options.max_depth then
    return "{...}"
  end
  seen[value] = true
  local result
  local length = sequence_length(value)
  if length then
    result = format_sequence(value, length, options, depth, seen)
  else
    local keys = {}
    for key in pairs(value) do
      keys[#keys + 1] = key
    end
    table.sort(keys, key_order)
    local pad = options.indent:rep(depth + 1)
    local lines = {}
    for i, key in ipairs(keys) do
      lines[i] = pad .. key_text(key) .. " = " .. format_value(value[key], options, depth + 1, seen)
    end
    result = "{\n" .. table.concat(lines, ",\n") .. "\n" .. options.indent:rep(depth) .. "}"
  end
  seen[value] = nil -- only the current path counts: a table shared by two fields is not a cycle
  return result
end

format_value = function(value, options, depth, seen)
  return scalar(value) or format_table(value, options, depth, seen)
end

-- Readable text for any value: sorted keys, short arrays inline, <cycle> for cycles; options {indent = "  ", max_depth = 5}.
function pretty.format(value, options)
  options = options or {}
  local settings = { indent = options.indent or "  ", max_depth = options.max_depth or 5 }
  return format_value(value, settings, 0, {})
end

-- Prints each argument (strings as they are, other values formatted) on one line; returns the arguments.
function pretty.print(...)
  local count = select("#", ...)
  local parts = {}
  for i = 1, count do
    local value = select(i, ...)
    parts[i] = type(value) == "string" and value or pretty.format(value)
  end
  print(table.concat(parts, " "))
  return ...
end

-- Length in characters (bytes when the text is not valid UTF-8).
local function width(text)
  return utf8.len(text) or #text
end

local function shorten(text, limit)
  if width(text) <= limit then
    return text
  end
  if limit <= 1 then
    return limit == 1 and "…" or ""
  end
  local stop = utf8.len(text) and utf8.offset(text, limit) or limit
  return text:sub(1, stop - 1) .. "…"
end

local function cell_text(value)
  if value == nil or is_null(value) then
    return ""
  end
  if type(value) == "string" then
    return (value:gsub("%c", " "))
  end
  local text = scalar(value)
  return text or "{…}"
end

-- Column names used by any record, sorted.
local function all_columns(records)
  local seen, names = {}, {}
  for _, record in ipairs(records) do
    for name in pairs(record) do
      if type(name) == "string" and not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
    end
  end
  table.sort(names)
  return names
end

-- The largest cell width that makes the row fit in max_width (never below 1).
local function width_cap(widths, separator_total, max_width)
  local function total(cap)
    local sum = separator_total
    for _, w in ipairs(widths) do
      sum = sum + math.min(w, cap)
    end
    return sum
  end
  local low, high = 1, 1
  for _, w in ipairs(widths) do
    high = math.max(high, w)
  end
  if total(high) <= max_width then
    return high
  end
  while low < high do
    local middle = (low + high + 1) // 2
    if total(middle) <= max_width then
      low = middle
    else
      high = middle - 1
    end
  end
  return low
end

local function numeric_column(rows, column)
  local any = false
  for _, row in ipairs(rows) do
    local text = row[column]
    if text ~= "" then
      if not text:find("^[+-]?%d+%.?%d*$") then
        return false
      end
      any = true
    end
  end
  return any
end

-- Aligned text columns with a header row; long cells end in "…" so lines fit max_width; options {max_width = 100}.
function pretty.table(records, columns, options)
  options = options or {}
  columns = columns or all_columns(records)
  local max_width = options.max_width or 100
  local separator = "  "
  local header = {}
  for c, name in ipairs(columns) do
    header[c] = tostring(name)
  end
  local rows = { header }
  for i, record in ipairs(records) do
    local row = {}
    for c, name in ipairs(columns) do
      row[c] = cell_text(record[name])
    end
    rows[i + 1] = row
  end
  local widths = {}
  for c = 1, #columns do
    widths[c] = 0
    for _, row in ipairs(rows) do
      widths[c] = math.max(widths[c], width(row[c]))
    end
  end
  local cap = width_cap(widths, #separator * math.max(#columns - 1, 0), max_width)
  local data = table.move(rows, 2, #rows, 1, {})
  local right = {}
  for c = 1, #columns do
    widths[c] = math.min(widths[c], cap)
    right[c] = numeric_column(data, c)
  end
  local lines, rule = {}, {}
  for c = 1, #columns do
    rule[c] = ("-"):rep(widths[c])
  end
  for r, row in ipairs(rows) do
    local cells = {}
    for c = 1, #columns do
      local text = shorten(row[c], widths[c])
      local pad = (" "):rep(widths[c] - width(text))
      cells[c] = (right[c] and r > 1) and (pad .. text) or (text .. pad)
    end
    lines[#lines + 1] = (table.concat(cells, separator):gsub("%s+$", ""))
    if r == 1 then
      lines[#lines + 1] = table.concat(rule, separator)
    end
  end
  return table.concat(lines, "\n")
end

return pretty
