-- Benchmark phases "initial" and "delta": one upsert per account by accountnumber, with
-- region, owner and primary contact set by the related records' alternate keys, and state.
-- Usage: cdsync run scripts/bench/accounts.lua --db STORE -- ACCOUNTS_CSV [track]
-- With "track", a change token named "bench" is taken for the end of this load.
local file = assert(arg[1], "usage: accounts.lua ACCOUNTS_CSV [track]")
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
if arg[2] == "track" then cds.start_tracking("account", "bench") end
print("rows", rows)
