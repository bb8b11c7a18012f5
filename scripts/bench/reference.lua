-- Benchmark phase "reference": users, regions and contacts by upsert on their keys.
-- Usage: cdsync run scripts/bench/reference.lua --db STORE -- DATA_DIR
local data = assert(arg[1], "usage: reference.lua DATA_DIR")
local rows = 0
for row in csv.rows(data .. "/users.csv") do
  cds.upsert("systemuser", { domainname = row.domainname }, { fullname = row.fullname })
  rows = rows + 1
end
for row in csv.rows(data .. "/regions.csv") do
  cds.upsert("region", { code = row.code }, { name = row.name })
  rows = rows + 1
end
for row in csv.rows(data .. "/contacts.csv") do
  cds.upsert("contact", { emailaddress1 = row.emailaddress1 }, {
    firstname = row.firstname, lastname = row.lastname, address1_city = row.city,
  })
  rows = rows + 1
end
print("rows", rows)
