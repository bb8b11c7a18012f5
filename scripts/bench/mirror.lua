-- Benchmark phase "delete" on its own: delete the accounts the full export no longer has,
-- reading the export's keys again (the nightly run reuses the keys its upserts collected).
-- Usage: cdsync run scripts/bench/mirror.lua --db STORE --module-path scripts/bench -- ACCOUNTS_DELTA_CSV
local file = assert(arg[1], "usage: mirror.lua ACCOUNTS_DELTA_CSV")
-- csv.keys reads the key column in Swift: no Lua table per row
local keys = csv.keys(file, "accountnumber")
local result = require("phases").delete_missing(keys)
print("rows", keys:count(), "deleted", result.deleted)
