-- The seed scenario: load an ERP export into the store, one call per record, with
-- lookups set by the related records' alternate keys, then send what changed since the
-- last run to a JSON lines file. Run it twice: the second run changes nothing.
local data = arg[1] or "examples/erp/data"
local out_path = arg[2] or "examples/erp/changes.jsonl"

for row in csv.rows(data .. "/users.csv") do
  cds.upsert("systemuser", { domainname = row.domainname }, { fullname = row.fullname })
end
for row in csv.rows(data .. "/regions.csv") do
  cds.upsert("region", { code = row.code }, { name = row.name })
end
for row in csv.rows(data .. "/contacts.csv") do
  cds.upsert("contact", { emailaddress1 = row.emailaddress1 }, {
    firstname = row.firstname, lastname = row.lastname, address1_city = row.city,
  })
end

for row in csv.rows(data .. "/accounts.csv") do
  cds.upsert("account", { accountnumber = row.accountnumber }, {
    name             = row.name,
    revenue          = cds.decimal(row.revenue),
    address1_city    = row.city,
    regionid         = cds.ref("region", { code = row.region_code }),
    ownerid          = cds.ref("systemuser", { domainname = row.owner_domainname }),
    primarycontactid = row.primarycontact_email ~= ""
                       and cds.ref("contact", { emailaddress1 = row.primarycontact_email })
                       or cds.null,
    statecode        = row.status == "active" and 0 or 1,
  })
end

-- Changes since the token saved under "to-warehouse" (everything on the first run).
-- The token advances only if this run ends without error. `expand` brings the keys of the
-- records the lookups point at with each page, instead of one read per change.
local function key_of(reference, column)
  return reference and reference[column]
end

local out = json.writer(out_path)
local written = 0
local expand = { regionid = "code", ownerid = "domainname", primarycontactid = "emailaddress1" }
for change in cds.changes("account", { token = "to-warehouse", expand = expand }) do
  if change.deleted then
    out:write({ op = "delete", id = change.id })
  else
    local r = change.record
    out:write({
      op = "upsert", id = change.id, accountnumber = r.accountnumber, name = r.name,
      region_code = key_of(r.regionid, "code"),
      owner_domainname = key_of(r.ownerid, "domainname"),
      primarycontact_email = key_of(r.primarycontactid, "emailaddress1"),
      status = r.statecode == 0 and "active" or "inactive",
      revenue = tostring(r.revenue), city = r.address1_city,
    })
  end
  written = written + 1
end
out:close()
print(("%d account changes written to %s"):format(written, out_path))
