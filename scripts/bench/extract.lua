-- Benchmark phase "extract" on its own: the changes since the token "bench" to JSON lines.
-- Usage: cdsync run scripts/bench/extract.lua --db STORE --module-path scripts/bench -- OUT_JSONL
local out_path = assert(arg[1], "usage: extract.lua OUT_JSONL")
print("rows", require("phases").extract(out_path))
