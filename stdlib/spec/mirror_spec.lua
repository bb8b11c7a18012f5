-- Specs for cdsync.mirror against the real store: rows are written with cds.upsert and checked with cds.query/cds.get.
local spec = require("cdsync.spec")
local mirror = require("cdsync.mirror")
local describe, it, expect = spec.describe, spec.it, spec.expect

local function clear_accounts()
  for _, row in ipairs(cds.query("account", { select = { "accountid" } })) do
    cds.delete("account", row.accountid)
  end
  cds.flush()
end

-- Creates one active account per key, e.g. seed("A", 10) makes A1..A10; returns the keys.
local function seed(prefix, count)
  local keys = {}
  for i = 1, count do
    keys[i] = prefix .. i
    cds.upsert("account", { accountnumber = keys[i] }, { name = "Account " .. keys[i] })
  end
  cds.flush()
  return keys
end

-- The account numbers now in the store (optionally only those matching filter), sorted.
local function account_numbers(filter)
  local numbers = {}
  for _, row in ipairs(cds.query("account", { select = { "accountnumber" }, filter = filter })) do
    numbers[#numbers + 1] = row.accountnumber
  end
  table.sort(numbers)
  return numbers
end

local function state_of(number)
  return cds.get("account", { accountnumber = number }).statecode
end

-- The first n items of an array.
local function first(items, n)
  return table.move(items, 1, n, 1, {})
end

spec.before_each(clear_accounts)

describe("mirror.sync with action delete", function()
  it("deletes the rows the source no longer has", function()
    local keys = seed("A", 10)
    local result = mirror.sync("account", { key = "accountnumber", source = first(keys, 9), action = "delete" })
    expect(result.considered).to_be(10)
    expect(result.missing).to_be(1)
    expect(result.deleted).to_be(1)
    expect(result.keys).to_equal({ "A10" })
    expect(#account_numbers()).to_be(9)
    expect(cds.get("account", { accountnumber = "A10" })).to_be_nil()
    expect(cds.get("account", { accountnumber = "A9" })).to_be_truthy()
  end)
  it("accepts a set table of key -> true", function()
    seed("A", 3)
    local result = mirror.sync("account", { key = "accountnumber", source = { A1 = true, A2 = true },
      action = "delete", max_deletes = 1 })
    expect(result.deleted).to_be(1)
    expect(account_numbers()).to_equal({ "A1", "A2" })
  end)
  it("matches keys ignoring case, as the store does", function()
    seed("A", 3)
    local result = mirror.sync("account", { key = "accountnumber", source = { "a1", "a2", "a3" }, action = "delete" })
    expect(result.missing).to_be(0)
    expect(#account_numbers()).to_be(3)
  end)
end)

describe("mirror.sync with action deactivate", function()
  it("sets statecode 1 on missing active rows and skips rows already inactive", function()
    local keys = seed("D", 10)
    cds.update("account", { accountnumber = "D9" }, { statecode = 1 })
    cds.flush()
    local result = mirror.sync("account", { key = "accountnumber", source = first(keys, 8),
      action = "deactivate", max_deletes = 2 })
    expect(result.missing).to_be(2)
    expect(result.deactivated).to_be(1)
    expect(result.deleted).to_be(0)
    expect(state_of("D10")).to_be(1)
    expect(state_of("D9")).to_be(1)
    expect(state_of("D8")).to_be(0)
    expect(#account_numbers()).to_be(10)
  end)
  it("sets the inactive state's default status", function()
    local keys = seed("D", 10)
    mirror.sync("account", { key = "accountnumber", source = first(keys, 9), action = "deactivate" })
    local row = cds.get("account", { accountnumber = "D10" })
    local inactive = cds.describe("account").states[2]
    expect(row.statecode).to_be(inactive.value)
    expect(row.statuscode).to_be(inactive.default_status)
  end)
  it("refuses an entity without a state model before writing anything", function()
    cds.create("team", { name = "Mirror team" })
    cds.flush()
    local err = expect(function()
      mirror.sync("team", { key = "name", source = { "Other team" }, action = "deactivate", max_deletes = 1.0 })
    end).to_fail("mirror.invalid_option")
    expect(err.message:find("state model", 1, true) ~= nil).to_be(true)
    expect(#cds.query("team", { filter = "name eq 'Mirror team'" })).to_be(1)
  end)
end)

describe("mirror.sync guards", function()
  it("refuses an empty source and writes nothing", function()
    seed("E", 3)
    expect(function()
      mirror.sync("account", { key = "accountnumber", source = {}, action = "delete" })
    end).to_fail("mirror.empty_source")
    expect(function()
      mirror.sync("account", { key = "accountnumber", source = mirror.key_set(), action = "delete" })
    end).to_fail("mirror.empty_source")
    expect(#account_numbers()).to_be(3)
  end)
  it("removes everything from an empty source when allow_empty is set", function()
    seed("E", 3)
    local result = mirror.sync("account", { key = "accountnumber", source = {}, action = "delete",
      allow_empty = true, max_deletes = 1.0 })
    expect(result.deleted).to_be(3)
    expect(#account_numbers()).to_be(0)
  end)
  it("refuses more missing rows than the default 10% before writing anything", function()
    local keys = seed("T", 10)
    local err = expect(function()
      mirror.sync("account", { key = "accountnumber", source = first(keys, 8), action = "delete" })
    end).to_fail("mirror.too_many_deletes")
    expect(err.count).to_be(2)
    expect(err.limit).to_be(1)
    expect(#account_numbers()).to_be(10)
  end)
  it("refuses more missing rows than an absolute max_deletes", function()
    local keys = seed("T", 10)
    expect(function()
      mirror.sync("account", { key = "accountnumber", source = first(keys, 5), action = "deactivate", max_deletes = 4 })
    end).to_fail("mirror.too_many_deletes")
    expect(state_of("T10")).to_be(0)
  end)
  it("allows up to max_deletes rows, as a count or a fraction", function()
    local keys = seed("T", 10)
    local result = mirror.sync("account", { key = "accountnumber", source = first(keys, 7), action = "delete", max_deletes = 3 })
    expect(result.deleted).to_be(3)
    result = mirror.sync("account", { key = "accountnumber", source = first(keys, 4), action = "delete", max_deletes = 0.5 })
    expect(result.deleted).to_be(3)
    expect(account_numbers()).to_equal({ "T1", "T2", "T3", "T4" })
  end)
  it("refuses an unknown action and a bad max_deletes", function()
    seed("T", 2)
    expect(function() mirror.sync("account", { key = "accountnumber", source = { "T1" }, action = "remove" }) end)
      .to_fail("mirror.invalid_option")
    expect(function()
      mirror.sync("account", { key = "accountnumber", source = { "T1" }, action = "delete", max_deletes = 1.5 })
    end).to_fail("mirror.invalid_option")
  end)
end)

describe("mirror.sync with dry_run", function()
  it("reports the missing keys and writes nothing", function()
    local keys = seed("R", 10)
    local result = mirror.sync("account", { key = "accountnumber", source = first(keys, 9), action = "delete", dry_run = true })
    expect(result.dry_run).to_be(true)
    expect(result.missing).to_be(1)
    expect(result.keys).to_equal({ "R10" })
    expect(result.deleted).to_be(0)
    expect(#account_numbers()).to_be(10)
  end)
end)

describe("mirror.sync with filter", function()
  it("considers only the rows the filter selects", function()
    seed("EU-", 4)
    seed("US-", 4)
    local result = mirror.sync("account", { key = "accountnumber", source = { "EU-1", "EU-2", "EU-3" },
      action = "delete", filter = "startswith(accountnumber,'EU-')", max_deletes = 1 })
    expect(result.considered).to_be(4)
    expect(result.keys).to_equal({ "EU-4" })
    expect(account_numbers()).to_equal({ "EU-1", "EU-2", "EU-3", "US-1", "US-2", "US-3", "US-4" })
  end)
  it("leaves inactive rows alone when the filter selects active ones", function()
    local keys = seed("F", 10)
    cds.update("account", { accountnumber = "F10" }, { statecode = 1 })
    cds.flush()
    local result = mirror.sync("account", { key = "accountnumber", source = first(keys, 8),
      action = "delete", filter = "statecode eq 0", max_deletes = 1 })
    expect(result.considered).to_be(9)
    expect(result.keys).to_equal({ "F9" })
    expect(cds.get("account", { accountnumber = "F10" })).to_be_truthy()
  end)
end)

describe("mirror.sync with many keys", function()
  it("compares keys ignoring case across batches, with and without a filter", function()
    seed("B", 700)
    local keys = mirror.key_set()
    for i = 1, 700, 2 do
      keys:add("b" .. i) -- the odd keys, lower-cased
    end
    keys:add("B2")
    local options = { key = "accountnumber", source = keys, action = "delete", dry_run = true, max_deletes = 1.0 }
    local all = mirror.sync("account", options)
    options.filter = "startswith(accountnumber,'B')"
    local filtered = mirror.sync("account", options)
    expect(all.considered).to_be(700)
    expect(all.missing).to_be(349)
    local expected = {}
    for i = 4, 700, 2 do
      expected[#expected + 1] = "B" .. i
    end
    table.sort(expected)
    local found = table.move(all.keys, 1, #all.keys, 1, {})
    table.sort(found)
    expect(found).to_equal(expected)
    expect(filtered.considered).to_be(700)
    expect(filtered.keys).to_equal(all.keys)
  end)
end)

describe("mirror.key_set", function()
  it("collects distinct keys ignoring case and nil", function()
    local keys = mirror.key_set()
    expect(keys:add("K1")).to_be(true)
    expect(keys:add("k1")).to_be(false)
    expect(keys:add(nil)).to_be(false)
    keys:add(42)
    expect(keys:count()).to_be(2)
    expect(keys:has("K1")).to_be(true)
    expect(keys:has("42")).to_be(true)
    expect(keys:has("K2")).to_be(false)
  end)
  it("works as the source of a sync", function()
    seed("S", 10)
    local keys = mirror.key_set()
    for i = 1, 9 do
      keys:add("S" .. i)
    end
    local result = mirror.sync("account", { key = "accountnumber", source = keys, action = "delete" })
    expect(result.keys).to_equal({ "S10" })
    expect(#account_numbers()).to_be(9)
  end)
end)

return spec.run()
