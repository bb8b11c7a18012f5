-- Benchmark phases "initial" and "delta": one upsert per account by accountnumber, with
-- region, owner and primary contact set by the related records' alternate keys, and state.
-- Usage: cdsync run scripts/bench/accounts.lua --db STORE --module-path scripts/bench -- ACCOUNTS_CSV [track]
-- With "track", a change token named "bench" is taken for the end of this load.
local file = assert(arg[1], "usage: accounts.lua ACCOUNTS_CSV [track]")
local rows = require("phases").load_accounts(file)
if arg[2] == "track" then cds.start_tracking("account", "bench") end
print("rows", rows)
