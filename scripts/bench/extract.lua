-- Benchmark phase "extract": the changes since the token "bench" to a JSON lines file in
-- the peers' format, lookups written back as the related records' alternate keys.
-- Usage: cdsync run scripts/bench/extract.lua --db STORE -- OUT_JSONL
local out_path = assert(arg[1], "usage: extract.lua OUT_JSONL")

-- id -> alternate key maps for the lookup targets, streamed once each
local function key_map(entity, key)
  local primary = cds.describe(entity).primary_id
  local map = {}
  for row in cds.rows(entity, { select = { key } }) do map[row[primary]] = row[key] end
  return map
end
local users = key_map("systemuser", "domainname")
local regions = key_map("region", "code")
local contacts = key_map("contact", "emailaddress1")

local function key(map, reference) return reference and map[reference.id] or "" end

local out = json.writer(out_path)
local written = 0
local columns = { "accountnumber", "name", "regionid", "ownerid", "primarycontactid", "statecode", "revenue", "address1_city" }
for change in cds.changes("account", { token = "bench", columns = columns }) do
  if change.deleted then
    out:write({ op = "delete", accountnumber = change.key and change.key.accountnumber, id = change.id })
  else
    local r = change.record
    out:write({
      op = "upsert", accountnumber = r.accountnumber, name = r.name,
      region_code = key(regions, r.regionid), owner_domainname = key(users, r.ownerid),
      primarycontact_email = key(contacts, r.primarycontactid),
      status = r.statecode == 0 and "active" or "inactive",
      revenue = tostring(r.revenue), city = r.address1_city or "",
    })
  end
  written = written + 1
end
out:close()
print("rows", written)
