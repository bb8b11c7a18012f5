-- cdsync.retry: run a function again when it fails with a temporary error.
--
-- The sandbox has no sleep, so attempts follow each other at once; the backoff delay each
-- attempt would have waited is still computed and passed to on_retry, for logging.

local retry = {}

-- Error codes that mean "try again later": Dataverse throttling/timeouts and an unreachable store.
retry.temporary_codes = {
  ["0x80072322"] = true, -- too many requests
  ["0x80072321"] = true, -- combined execution time exceeded
  ["0x80072326"] = true, -- too many concurrent requests
  ["store.unavailable"] = true,
}

local function invalid(message)
  error({ code = "retry.invalid_option", message = message }, 3)
end

-- True when err is an error table whose code is in retry.temporary_codes.
function retry.is_temporary(err)
  return type(err) == "table" and type(err.code) == "string"
    and retry.temporary_codes[err.code:lower()] == true
end

local function check_options(options)
  -- a whole float (2.0) is a whole number; NaN and infinities are not
  local attempts = type(options.attempts) == "number" and math.tointeger(options.attempts) or options.attempts or 3
  if math.type(attempts) ~= "integer" or attempts < 1 then
    invalid("attempts must be a whole number of at least 1, got " .. tostring(attempts))
  end
  local backoff = options.backoff or 0.5
  if type(backoff) ~= "number" or backoff ~= backoff or backoff < 0 or backoff == math.huge then
    invalid("backoff must be a number of seconds (0 or more), got " .. tostring(backoff))
  end
  local retry_on = options.retry_on or retry.is_temporary
  if type(retry_on) ~= "function" then
    invalid("retry_on must be a function(err) returning true to retry, got " .. type(retry_on))
  end
  if options.on_retry ~= nil and type(options.on_retry) ~= "function" then
    invalid("on_retry must be a function(attempt, err, delay), got " .. type(options.on_retry))
  end
  return attempts, backoff, retry_on
end

-- Calls fn until it succeeds, fails with an error retry_on rejects, or attempts run out; options {attempts = 3, backoff = 0.5, retry_on = fn, on_retry = fn}.
function retry.call(fn, options)
  if type(fn) ~= "function" then
    invalid("retry.call needs a function, got " .. type(fn))
  end
  options = options or {}
  local attempts, backoff, retry_on = check_options(options)
  local attempt = 0
  while true do
    attempt = attempt + 1
    local results = table.pack(pcall(fn))
    if results[1] then
      return table.unpack(results, 2, results.n)
    end
    local err = results[2]
    if attempt >= attempts or not retry_on(err) then
      if type(err) == "table" then
        err.attempts = attempt -- how many times fn ran before giving up
      end
      error(err, 0) -- unchanged: a string keeps its position, a table its code
    end
    if options.on_retry then
      options.on_retry(attempt, err, backoff * 2 ^ (attempt - 1))
    end
  end
end

return retry
