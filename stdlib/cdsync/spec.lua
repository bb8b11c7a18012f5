-- cdsync.spec: a tiny spec framework for stdlib and user specs.
--
--   local spec = require("cdsync.spec")
--   spec.describe("map.integer", function()
--     spec.it("reads signed text", function() spec.expect(require("cdsync.map").integer("-4")).to_be(-4) end)
--   end)
--   return spec.run()
--
-- describe bodies run at once and collect the its; spec.run() runs the its, then forgets
-- them, so one Lua state can run several spec files one after another.

local spec = {}

local FAILURE = {} -- marks assertion failures, as opposed to errors raised by the code under test

local root -- the top-level suite
local current -- the suite whose describe body is running

local function new_suite(name, parent)
  return { name = name, parent = parent, children = {}, before = {}, after = {} }
end

local function reset()
  root = new_suite(nil, nil)
  current = root
end
reset()

-- A short, single-line description of a value for failure messages.
local function show(value)
  if type(value) == "string" then
    return (string.format("%q", value):gsub("\\\n", "\\n"))
  end
  if type(value) == "table" and getmetatable(value) == nil then
    local ok, pretty = pcall(require, "cdsync.pretty")
    if ok then
      return (pretty.format(value, { indent = "", max_depth = 3 }):gsub("\n", " "))
    end
  end
  return tostring(value)
end

-- "file:line" of the spec line that called the assertion (the sandbox keeps debug.traceback).
local function caller_position()
  if not (debug and debug.traceback) then
    return nil
  end
  for line in debug.traceback("", 2):gmatch("[^\n]+") do
    local position = line:match("^%s*([^%s:]+:%d+):")
    if position and not position:find("cdsync[/.]spec[.:]") then
      return position
    end
  end
  return nil
end

local function fail(message)
  local position = caller_position()
  error({ [FAILURE] = true, message = position and (position .. ": " .. message) or message }, 0)
end

-- Deep equality; returns nil when equal, else the path where the values differ.
local function difference(actual, expected, path, seen)
  if rawequal(actual, expected) then
    return nil
  end
  if type(actual) ~= "table" or type(expected) ~= "table" then
    if actual == expected then
      return nil
    end
    if type(actual) == type(expected) and (type(actual) == "userdata" or type(actual) == "table")
      and tostring(actual) == tostring(expected) then
      return nil -- e.g. two decimal objects with the same exact text
    end
    return path
  end
  seen = seen or {}
  if seen[actual] == expected then
    return nil
  end
  seen[actual] = expected
  for key, value in pairs(expected) do
    local step = (type(key) == "string" and key:find("^[%a_][%w_]*$")) and ("." .. key) or ("[" .. show(key) .. "]")
    local where = difference(actual[key], value, path .. step, seen)
    if where then
      return where
    end
  end
  for key in pairs(actual) do
    if expected[key] == nil then
      return path .. "[" .. show(key) .. "] (not expected)"
    end
  end
  return nil
end

local function error_text(err)
  if type(err) == "table" then
    local text = tostring(err.message)
    return err.code and (text .. " [" .. tostring(err.code) .. "]") or text
  end
  return tostring(err)
end

-- Groups specs under a name; describe blocks nest.
function spec.describe(name, fn)
  local suite = new_suite(name, current)
  current.children[#current.children + 1] = suite
  local outer = current
  current = suite
  local ok, err = pcall(fn)
  current = outer
  if not ok then
    suite.children[#suite.children + 1] = { test = name, broken = err }
  end
end

-- Declares one spec: a named function that passes unless it raises.
function spec.it(name, fn)
  current.children[#current.children + 1] = { test = name, fn = fn }
end

-- Runs fn before every spec in the current describe block (and the blocks nested in it).
function spec.before_each(fn)
  current.before[#current.before + 1] = fn
end

-- Runs fn after every spec in the current describe block, even when the spec failed.
function spec.after_each(fn)
  current.after[#current.after + 1] = fn
end

-- Starts an assertion about value: expect(v).to_be(x), .to_equal(x), .to_be_nil(), .to_be_truthy(), .to_fail(code).
function spec.expect(value)
  local expectation = {}

  -- Passes when the value is x itself (rawequal: same table, same userdata, same number).
  function expectation.to_be(expected)
    if not (rawequal(value, expected) or (type(value) == "number" and value == expected)) then
      fail("expected " .. show(value) .. " to be " .. show(expected))
    end
  end

  -- Passes when the value equals x deeply (tables compared key by key; host objects by tostring).
  function expectation.to_equal(expected)
    local where = difference(value, expected, "value")
    if where then
      fail("expected " .. show(value) .. " to equal " .. show(expected) .. " (differs at " .. where .. ")")
    end
  end

  -- Passes when the value is nil.
  function expectation.to_be_nil()
    if value ~= nil then
      fail("expected " .. show(value) .. " to be nil")
    end
  end

  -- Passes when the value is neither nil nor false.
  function expectation.to_be_truthy()
    if not value then
      fail("expected " .. show(value) .. " to be truthy")
    end
  end

  -- Passes when the value is nil or false.
  function expectation.to_be_falsy()
    if value then
      fail("expected " .. show(value) .. " to be falsy")
    end
  end

  -- Passes when the value is a string containing the Lua pattern.
  function expectation.to_match(pattern)
    if type(value) ~= "string" or not value:find(pattern) then
      fail("expected " .. show(value) .. " to match " .. show(pattern))
    end
  end

  -- Passes when the value (a function) raises an error whose code is code_or_pattern or whose message matches it; returns the error.
  function expectation.to_fail(code_or_pattern)
    if type(value) ~= "function" then
      fail("to_fail needs a function, got " .. show(value))
    end
    local ok, err = pcall(value)
    if ok then
      fail("expected the function to fail" .. (code_or_pattern and (" with " .. show(code_or_pattern)) or ""))
    end
    if code_or_pattern == nil then
      return err
    end
    local code = type(err) == "table" and err.code or nil
    local message = type(err) == "table" and tostring(err.message) or tostring(err)
    if code ~= code_or_pattern and not message:find(code_or_pattern) then
      fail("expected an error matching " .. show(code_or_pattern) .. ", got: " .. error_text(err))
    end
    return err
  end

  return expectation
end

local function full_name(suite, test)
  local names = { test ~= nil and test or nil }
  while suite do
    if suite.name then
      table.insert(names, 1, suite.name)
    end
    suite = suite.parent
  end
  return table.concat(names, " > ")
end

local function run_hooks(suite, field, outer_first)
  local chain = {}
  while suite do
    table.insert(chain, outer_first and 1 or #chain + 1, suite)
    suite = suite.parent
  end
  for _, each in ipairs(chain) do
    for _, hook in ipairs(each[field]) do
      hook()
    end
  end
end

local function handler(err)
  if type(err) == "string" and debug and debug.traceback then
    return debug.traceback(err, 2):match("^[^\n]*") -- the message with its position, no stack
  end
  return err
end

-- Runs one spec with its hooks; returns nil when it passed, else the failure text.
local function run_test(suite, test)
  if test.broken then
    return "error in describe: " .. error_text(test.broken)
  end
  local ok, err = xpcall(function()
    run_hooks(suite, "before", true)
    test.fn()
  end, handler)
  local after_ok, after_err = xpcall(run_hooks, handler, suite, "after", false)
  if not ok then
    return type(err) == "table" and err[FAILURE] and err.message or ("error: " .. error_text(err))
  end
  if not after_ok then
    return "error in after_each: " .. error_text(after_err)
  end
  return nil
end

local function run_suite(suite, totals, options)
  for _, child in ipairs(suite.children) do
    if child.test then
      local problem = run_test(suite, child)
      local name = full_name(suite, not child.broken and child.test or nil)
      if problem then
        totals.failed = totals.failed + 1
        totals.messages[#totals.messages + 1] = name .. ": " .. problem
      else
        totals.passed = totals.passed + 1
      end
      if options.verbose then
        print((problem and "FAIL " or "ok   ") .. name .. (problem and (": " .. problem) or ""))
      end
    else
      run_suite(child, totals, options)
    end
  end
end

-- Runs every declared spec and forgets them; returns passed, failed, messages ({"describe > it: message", ...}).
function spec.run(options)
  options = options or {}
  local totals = { passed = 0, failed = 0, messages = {} }
  local suite = root
  reset()
  run_suite(suite, totals, options)
  return totals.passed, totals.failed, totals.messages
end

return spec
