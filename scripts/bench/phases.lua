-- The benchmark's sync steps, shared by its scripts (require("phases") with
-- --module-path scripts/bench): the accounts load, the mirror deletes and the change extract.
local phases = {}

-- One upsert per account by accountnumber, with region, owner and primary contact set by the
-- related records' alternate keys, and state. Returns the number of rows read.
function phases.load_accounts(file)
  local ref, null, decimal = cds.ref, cds.null, cds.decimal
  local rows = 0
  for row in csv.rows(file) do
    local email = row.primarycontact_email
    cds.upsert("account", { accountnumber = row.accountnumber }, {
      name             = row.name,
      regionid         = ref("region", "code", row.region_code),
      ownerid          = ref("systemuser", "domainname", row.owner_domainname),
      primarycontactid = email ~= "" and ref("contact", "emailaddress1", email) or null,
      statecode        = row.status == "active" and 0 or 1,
      revenue          = decimal(row.revenue),
      address1_city    = row.city,
    })
    rows = rows + 1
  end
  return rows
end

-- Deletes the accounts whose key `source` (a key set: csv.keys or cds.upserted_keys) lacks.
function phases.delete_missing(source)
  local mirror = require("cdsync.mirror")
  return mirror.sync("account", { key = "accountnumber", source = source, action = "delete", max_deletes = 0.02 })
end

-- The changes since the token "bench" to a JSON lines file in the peers' format, lookups
-- written back as the related records' alternate keys. Returns the number of lines.
function phases.extract(out_path)
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
  return written
end

return phases
