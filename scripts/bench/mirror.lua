-- Benchmark phase "delete": delete the accounts the full export no longer has.
-- Usage: cdsync run scripts/bench/mirror.lua --db STORE -- ACCOUNTS_DELTA_CSV
local mirror = require("cdsync.mirror")
local file = assert(arg[1], "usage: mirror.lua ACCOUNTS_DELTA_CSV")
-- csv.keys reads the key column in Swift: no Lua table per row
local keys = csv.keys(file, "accountnumber")
local result = mirror.sync("account", { key = "accountnumber", source = keys, action = "delete", max_deletes = 0.02 })
print("rows", keys:count(), "deleted", result.deleted)
