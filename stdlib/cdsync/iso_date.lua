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

-- Checks "HH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM)" (a zone is required, as the store requires it: a time
-- without one is ambiguous); returns the time in canonical form ("+0100" becomes "+01:00"), or nil.
local function canonical_time(text)
  local hour, minute, rest = text:match("^(%d%d):(%d%d)(.*)$")
  if not hour or tonumber(hour) > 23 or tonumber(minute) > 59 then
    return nil
  end
  local second, after = rest:match("^:(%d%d)(.*)$")
  if second then
    if tonumber(second) > 59 then
      return nil
    end
    rest = after:gsub("^%.%d+", "", 1)
  end
  local clock = text:sub(1, #text - #rest)
  if rest == "Z" or rest == "z" then
    return clock .. "Z"
  end
  local sign, offset_hour, offset_minute = rest:match("^([+-])(%d%d):?(%d%d)$")
  if sign == nil or tonumber(offset_hour) > 14 or tonumber(offset_minute) > 59 then
    return nil
  end
  return clock .. sign .. offset_hour .. ":" .. offset_minute
end

-- The text in canonical form ("T" between date and time, "+HH:MM" offsets) when it is a valid ISO 8601
-- date (years 0001-9999) or date-time with a zone, as the store reads it; nil otherwise.
function iso_date.normalize(text)
  if type(text) ~= "string" then
    return nil
  end
  local year, month, day, rest = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if year == nil or tonumber(year) < 1 or not valid_date(tonumber(year), tonumber(month), tonumber(day)) then
    return nil
  end
  if rest == "" then
    return text
  end
  -- A space between date and time is common in exports; normalise it to ISO's "T".
  local time = rest:match("^[T ](.+)$")
  time = time and canonical_time(time)
  if time == nil then
    return nil
  end
  return text:sub(1, 10) .. "T" .. time
end

return iso_date
