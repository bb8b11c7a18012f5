-- Benchmark phase "delete": delete the accounts the full export no longer has.
-- Usage: cdsync run scripts/bench/mirror.lua --db STORE -- ACCOUNTS_DELTA_CSV
local mirror = require("cdsync.mirror")
local file = assert(arg[1], "usage: mirror.lua ACCOUNTS_DELTA_CSV")
local keys = mirror.key_set()
local rows = 0
for row in csv.rows(file) do
  keys:add(row.accountnumber)
  rows = rows + 1
end
local result = mirror.sync("account", { key = "accountnumber", source = keys, action = "delete", max_deletes = 0.02 })
print("rows", rows, "deleted", result.deleted)
