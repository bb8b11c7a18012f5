-- Benchmark phases "delta" and "delete" as one nightly job, the way the peers run them: the
-- next-day export upserted (the same load as the initial one), then the accounts it no longer
-- has deleted by the keys its upserts collected (no second read of the file). Each phase ends
-- with its writes committed and prints "phase NAME ROWS ELAPSED PEAK_MB" (seconds since the
-- process started). The extract runs after it as a job of its own (extract.lua).
-- Usage: cdsync run scripts/bench/nightly.lua --db STORE --module-path scripts/bench -- ACCOUNTS_DELTA_CSV
local file = assert(arg[1], "usage: nightly.lua ACCOUNTS_DELTA_CSV")
local phases = require("phases")

local function phase_done(name, rows)
  cds.checkpoint() -- sends and commits the phase's writes (no token is saved: none is pending)
  local stats = cds.stats()
  print(string.format("phase %s %d %.3f %.1f", name, rows, stats.elapsed, stats.peak_rss_mb or 0))
end

local seen = cds.upserted_keys("account", "accountnumber")
phase_done("delta", phases.load_accounts(file))
local result = phases.delete_missing(seen)
phase_done("delete", seen:count())
print("deleted", result.deleted)
