-- Benchmark phase "extract": the changes since the token "bench" to a JSON lines file in
-- the peers' format, lookups written back as the related records' alternate keys.
-- Usage: cdsync run scripts/bench/extract.lua --db STORE -- OUT_JSONL
local out_path = assert(arg[1], "usage: extract.lua OUT_JSONL")

local out = json.writer(out_path)
local written = 0
local columns = { "accountnumber", "name", "regionid", "ownerid", "primarycontactid", "statecode", "revenue", "address1_city" }
-- expand reads each page's related records in a few queries, so r.regionid.code is the region's key
local expand = { regionid = "code", ownerid = "domainname", primarycontactid = "emailaddress1" }
local function key(reference, column) return reference and reference[column] or "" end
for change in cds.changes("account", { token = "bench", columns = columns, expand = expand }) do
  if change.deleted then
    out:write({ op = "delete", accountnumber = change.key and change.key.accountnumber, id = change.id })
  else
    local r = change.record
    out:write({
      op = "upsert", accountnumber = r.accountnumber, name = r.name,
      region_code = key(r.regionid, "code"), owner_domainname = key(r.ownerid, "domainname"),
      primarycontact_email = key(r.primarycontactid, "emailaddress1"),
      status = r.statecode == 0 and "active" or "inactive",
      revenue = tostring(r.revenue), city = r.address1_city or "",
    })
  end
  written = written + 1
end
out:close()
print("rows", written)
