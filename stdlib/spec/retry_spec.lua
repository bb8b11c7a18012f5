-- Specs for cdsync.retry: which errors are retried, how often, and what comes back.
local spec = require("cdsync.spec")
local retry = require("cdsync.retry")
local describe, it, expect = spec.describe, spec.it, spec.expect

-- A function that fails with the given errors in turn, then returns "done", 2.
local function flaky(...)
  local errors = table.pack(...)
  local calls = 0
  return function()
    calls = calls + 1
    if calls <= errors.n then
      error(errors[calls], 0)
    end
    return "done", 2
  end, function() return calls end
end

local throttled = { code = "0x80072322", message = "Number of requests exceeded the limit" }

describe("retry.call", function()
  it("returns all results of a function that succeeds at once", function()
    local fn, calls = flaky()
    local text, number = retry.call(fn)
    expect(text).to_be("done")
    expect(number).to_be(2)
    expect(calls()).to_be(1)
  end)
  it("retries temporary errors and returns the later success", function()
    local fn, calls = flaky(throttled, { code = "store.unavailable", message = "busy" })
    expect(retry.call(fn)).to_be("done")
    expect(calls()).to_be(3)
  end)
  it("re-raises the last error with the attempt count when attempts run out", function()
    local fn, calls = flaky(throttled, throttled, throttled, throttled)
    local err = expect(function() retry.call(fn, { attempts = 2 }) end).to_fail("0x80072322")
    expect(err.attempts).to_be(2)
    expect(calls()).to_be(2)
  end)
  it("does not retry an error that is not temporary", function()
    local fn, calls = flaky({ code = "0x80040217", message = "not found" })
    expect(function() retry.call(fn) end).to_fail("0x80040217")
    expect(calls()).to_be(1)
  end)
  it("does not retry string errors by default and keeps their text", function()
    local fn, calls = flaky("boom")
    expect(function() retry.call(fn) end).to_fail("^boom$")
    expect(calls()).to_be(1)
  end)
  it("uses retry_on to choose what to retry", function()
    local fn, calls = flaky("flaky network", "flaky network")
    local value = retry.call(fn, { attempts = 5, retry_on = function(err) return tostring(err):find("network") ~= nil end })
    expect(value).to_be("done")
    expect(calls()).to_be(3)
  end)
  it("reports each retry with its attempt number and backoff delay", function()
    local fn = flaky(throttled, throttled)
    local seen = {}
    retry.call(fn, { backoff = 0.5, on_retry = function(attempt, err, delay)
      seen[#seen + 1] = { attempt, err.code, delay }
    end })
    expect(seen).to_equal({ { 1, "0x80072322", 0.5 }, { 2, "0x80072322", 1.0 } })
  end)
  it("refuses bad options", function()
    expect(function() retry.call(function() end, { attempts = 0 }) end).to_fail("retry.invalid_option")
    expect(function() retry.call("not a function") end).to_fail("retry.invalid_option")
    expect(function() retry.call(function() end, { attempts = 2.5 }) end).to_fail("retry.invalid_option")
    expect(function() retry.call(function() end, { backoff = 0 / 0 }) end).to_fail("retry.invalid_option")
    expect(function() retry.call(function() end, { backoff = math.huge }) end).to_fail("retry.invalid_option")
  end)
  it("takes a whole float as a count of attempts", function()
    local calls = 0
    expect(function() retry.call(function() calls = calls + 1; error({ code = "0x80072322" }) end, { attempts = 2.0 }) end)
      .to_fail("0x80072322")
    expect(calls).to_be(2)
  end)
end)

describe("retry.is_temporary", function()
  it("knows the throttling codes and store.unavailable", function()
    expect(retry.is_temporary({ code = "0x80072321" })).to_be(true)
    expect(retry.is_temporary({ code = "0x80072326" })).to_be(true)
    expect(retry.is_temporary({ code = "store.unavailable" })).to_be(true)
  end)
  it("rejects other codes and plain strings", function()
    expect(retry.is_temporary({ code = "map.invalid_value" })).to_be(false)
    expect(retry.is_temporary("0x80072322")).to_be(false)
  end)
end)

return spec.run()
