-- cdsync.iso_date: validation of ISO 8601 date and date-time text (used by map.date).

local iso_date = {}

local function days_in_month(year, month)
  if month == 2 then
    local leap = (year % 4 == 0 and year % 100 ~= 0) or year % 400 == 0
    return leap and 29 or 28
  end
  return (month == 4 or month == 6 or month == 9 or month == 11) and 30 or 31
end

local function valid_date(year, month, day)
  return month >= 1 and month <= 12 and day >= 1 and day <= days_in_month(year, month)
end

-- Checks "HH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM]"; returns true when valid.
local function valid_time(text)
  local hour, minute, rest = text:match("^(%d%d):(%d%d)(.*)$")
  if not hour or tonumber(hour) > 23 or tonumber(minute) > 59 then
    return false
  end
  local second, after = rest:match("^:(%d%d)(.*)$")
  if second then
    if tonumber(second) > 59 then
      return false
    end
    rest = after:gsub("^%.%d+", "", 1)
  end
  if rest == "" or rest == "Z" then
    return true
  end
  local offset_hour, offset_minute = rest:match("^[+-](%d%d):?(%d%d)$")
  return offset_hour ~= nil and tonumber(offset_hour) <= 14 and tonumber(offset_minute) <= 59
end

-- The text in canonical form ("T" between date and time) when it is a valid ISO 8601 date or date-time; nil otherwise.
function iso_date.normalize(text)
  if type(text) ~= "string" then
    return nil
  end
  local year, month, day, rest = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if year == nil or not valid_date(tonumber(year), tonumber(month), tonumber(day)) then
    return nil
  end
  if rest == "" then
    return text
  end
  -- A space between date and time is common in exports; normalise it to ISO's "T".
  local time = rest:match("^[T ](.+)$")
  if time == nil or not valid_time(time) then
    return nil
  end
  return text:sub(1, 10) .. "T" .. time
end

return iso_date
