-- Generates the benchmark workload (a CRM export: users, regions, contacts, accounts, the
-- next day's full account export and its answer key) in the format of the shared
-- WORKLOAD.md, deterministically from N and SEED.
--
--   mkdir -p OUTDIR
--   cdsync run scripts/bench/gen_workload.lua --db /tmp/unused.db -- N SEED OUTDIR
--
-- Same N and SEED give byte-identical files. The random numbers are not those of the
-- Python reference generator, so the files differ from its files, but the columns,
-- fractions, quoting and key formats are the same. The store (--db) is not used.
--
-- Memory stays small at any N: no account list is kept. Every account row is drawn from
-- its own random stream, seeded from (SEED, row number), so the delta pass regenerates row
-- i exactly as the initial pass wrote it and changes only the rows picked beforehand. A
-- contact's names come from a hash of (SEED, contact number), so an account can name any
-- contact's e-mail without a contact list. Only the set of affected rows (11.5 % of N)
-- is held in memory.

local USAGE = "usage: cdsync run gen_workload.lua --db STORE -- N SEED OUTDIR"

---------------------------------------------------------------------------------------
-- Data lists (the same names as the reference generator, so that the files carry the
-- same commas, quotes and non-ASCII letters).
---------------------------------------------------------------------------------------

local N_USERS = 200
local REGIONS = {
  { "NW", "North-West" }, { "NE", "North-East" }, { "SW", "South-West" },
  { "SE", "South-East" }, { "N", "North" }, { "S", "South" }, { "E", "East" },
  { "W", "West" }, { "C", "Central" },
  { "R01", "Île-de-France" }, { "R02", "Nord-Pas-de-Calais, Picardie" },
  { "R03", "Bayern (Bavaria)" }, { "R04", 'Québec "La Belle Province"' },
  { "R05", "Skåne" }, { "R06", "Łódzkie" }, { "R07", "São Paulo" },
  { "R08", "Zürich" }, { "R09", "Castilla y León" }, { "R10", "Ōsaka" },
  { "R11", "Île de Montréal, Québec" },
}
local FIRST = {
  "Ana", "José", "Zoë", "Øystein", "Łukasz", "Chloé", "Mateo", "Aiko",
  "Björn", "Siobhán", "Noah", "Emma", "Liam", "Olivia", "Ahmed", "Fatima",
  "Chen", "Priya", "Jürgen", "Renée", "Seán", "Mia", "Lucas", "Ingrid",
  "François", "Dmitri", "Anaïs", "Kwame", "Yusuf", "Elif",
  'Robert "Bob"', 'Katherine "Kate"',
}
local LAST = {
  "García", "Müller", "O'Brien", "Smith, Jr.", "Nakamura", "Dvořák",
  "Johansson", "Kowalski", "Nguyen", "Silva", "Brown", "Jones", "Lefèvre",
  "Rossi", "Novák", "Papadopoulos", "Öztürk", "Wójcik", "Ferreira", "Kim",
  "Schmidt", "Andersen", "Hernández", "Murphy", "Cohen", "Ivanova", "Patel",
  "Ó Súilleabháin", "Ng", "Søndergaard", "King, III",
}
local CITIES = {
  "Seattle", "Zürich", "São Paulo", "Kraków", "Washington, D.C.", "Québec",
  "München", "Reykjavík", "Malmö", "Oslo", "Lisbon", "Dublin", "Tokyo",
  "Austin", "Córdoba", "Bogotá", "Toronto", "Paris", "Berlin", "Athens",
  "Lagos", "Seoul", "Dallas", "Boston", "Denver", "Saint-Étienne", "Łódź",
  "İstanbul", "Trondheim", "Frankfurt am Main", "Stratford-upon-Avon",
  "Ho Chi Minh City",
}
local NAME_PREFIX = {
  "Contoso", "Fabrikam", "Northwind", "Adventure Works", "Tailspin",
  "Wingtip", "Litware", "Proseware", "Lucerne", "Alpine Ski House",
  "Blue Yonder", "Coho", "Fourth Coffee", "Margie's", "Trey", "Wide World",
  "Woodgrove", "Humongous", "Southridge", "Škoda-Nord", "Åkerlund",
  "Nordlicht", "Café Olé", "Mañana",
}
local NAME_CORE = {
  "Trading", "Logistics", "Bäckerei", "Systems", "Consulting", "Holdings",
  "Widgets", "Motors", "Foods", "Énergie", "Ingeniería", "Analytics",
  "Services", "Farms", "Brauerei", "Textiles", "Robotics", "Pharma",
}
local NAME_SUFFIX = {
  "Ltd.", "GmbH", "S.A.", "LLC", ", Inc.", "AB", "Oy", "K.K.", "& Sons",
  "Co.", "S.à r.l.", "A/S", "", "",
}

local ACCOUNT_FIELDS = {
  "accountnumber", "name", "region_code", "owner_domainname",
  "primarycontact_email", "status", "revenue", "city",
}
local CHANGEABLE = {
  "name", "revenue", "city", "region_code", "owner_domainname", "primarycontact_email",
}
-- How many fields a modified row changes: 1 (half), 2 (a third) or 3 (a sixth).
local CHANGE_COUNTS = { 1, 1, 1, 2, 2, 3 }

-- Fractions of N for the delta export, rounded to whole rows.
local FRAC_MODIFIED = 0.10
local FRAC_STATUS_FLIP = 0.01
local FRAC_NEW = 0.01
local FRAC_DELETED = 0.005
-- Per-row probabilities.
local P_NO_CONTACT = 0.02
local P_INACTIVE = 0.15
local P_BEST_NAME = 0.03 -- 'The "Best" <core> of <city>'

---------------------------------------------------------------------------------------
-- Random numbers: SplitMix64 on Lua 5.4's wrapping 64-bit integers (`>>` is logical).
-- One stream is active at a time (`state`); `seed_stream` switches to the stream of
-- (purpose, number), so what a row draws never depends on the rows before it.
---------------------------------------------------------------------------------------

local GOLDEN = 0x9E3779B97F4A7C15

-- The SplitMix64 finaliser: a bijection on 64-bit integers that scatters nearby inputs.
local function mix64(z)
  z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
  z = (z ~ (z >> 27)) * 0x94D049BB133111EB
  return z ~ (z >> 31)
end

local state = 0

local function next64()
  state = state + GOLDEN
  return mix64(state)
end

-- An integer in [0, n). Plain modulo of 63 random bits: the bias is below n / 2^63,
-- far too small to matter here, and it keeps the per-row cost low.
local function below(n)
  return (next64() >> 1) % n
end

-- A float in [0, 1) from 53 random bits.
local function uniform()
  return (next64() >> 11) * (1.0 / 9007199254740992.0)
end

local function pick(list)
  return list[(next64() >> 1) % #list + 1]
end

-- Independent streams per purpose: users, the choice of affected rows, account rows,
-- contacts, and the changes applied to modified rows.
local STREAM_USERS, STREAM_PLAN, STREAM_ACCOUNT, STREAM_CONTACT, STREAM_CHANGE = 1, 2, 3, 4, 5
local stream_base = {}

local function init_streams(seed)
  local root = mix64(seed + GOLDEN)
  for tag = 1, 5 do stream_base[tag] = mix64(root + tag * GOLDEN) end
end

local function seed_stream(tag, number)
  state = mix64(stream_base[tag] + number)
end

---------------------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------------------

-- Python's round() (halves to even), so the counts equal round(N * fraction).
local function round_half_even(x)
  local f = math.floor(x)
  local d = x - f
  if d > 0.5 or (d == 0.5 and f % 2 == 1) then f = f + 1 end
  return math.tointeger(f)
end

-- The ASCII letter of each accented letter in FIRST and LAST, as Unicode NFKD followed
-- by dropping non-ASCII gives it. Ø, ø and Ł have no decomposition, so they are dropped
-- (as in the reference generator's e-mail addresses).
local ASCII_OF = {
  [0xD3] = "o", [0xD6] = "o", [0xE1] = "a", [0xE7] = "c", [0xE8] = "e", [0xE9] = "e",
  [0xEB] = "e", [0xED] = "i", [0xEF] = "i", [0xF3] = "o", [0xF6] = "o", [0xFA] = "u",
  [0xFC] = "u", [0x159] = "r",
}

-- Lowercase ASCII letters and digits of a name: "Ó Súilleabháin" -> "osuilleabhain".
local function ascii_slug(s)
  local out = {}
  for _, cp in utf8.codes(s) do
    local ch
    if cp < 128 then
      ch = string.char(cp):lower()
      if not ch:match("%w") then ch = nil end
    else
      ch = ASCII_OF[cp]
    end
    out[#out + 1] = ch
  end
  return table.concat(out)
end

local function slugs(list)
  local out = {}
  for i, name in ipairs(list) do out[i] = ascii_slug(name) end
  return out
end

local FIRST_SLUG, LAST_SLUG = slugs(FIRST), slugs(LAST)

local REGION_CODES = {}
for i, r in ipairs(REGIONS) do REGION_CODES[i] = r[1] end

local USER_KEYS = {}
for i = 1, N_USERS do USER_KEYS[i] = string.format("u%04d@contoso.test", i - 1) end

-- Suffixes as appended to "<prefix> <core>": none, ", Inc." glued on, others after a space.
local SUFFIX_TAIL = {}
for i, s in ipairs(NAME_SUFFIX) do
  SUFFIX_TAIL[i] = (s == "" or s:sub(1, 1) == ",") and s or " " .. s
end

---------------------------------------------------------------------------------------
-- Contacts: contact c (1-based) is a pure function of (SEED, c), so any account can name
-- it without a list; the e-mail's counter makes every address unique.
---------------------------------------------------------------------------------------

local n_contacts = 1

-- Indices into FIRST, LAST and CITIES of contact c. Uses its own hash chain instead of
-- the active stream, so calling it in the middle of a row does not disturb the row.
local function contact_parts(c)
  local h1 = mix64(stream_base[STREAM_CONTACT] + c)
  local h2 = mix64(h1 + GOLDEN)
  local h3 = mix64(h2 + GOLDEN)
  return (h1 >> 1) % #FIRST + 1, (h2 >> 1) % #LAST + 1, (h3 >> 1) % #CITIES + 1
end

local function contact_email(c)
  local f, l = contact_parts(c)
  return string.format("%s.%s%d@fabrikam.test", FIRST_SLUG[f], LAST_SLUG[l], c)
end

local function random_contact_email()
  return contact_email(below(n_contacts) + 1)
end

---------------------------------------------------------------------------------------
-- Account values (drawn from the active stream)
---------------------------------------------------------------------------------------

local function company_name()
  local x = uniform()
  local core = pick(NAME_CORE)
  if x < P_BEST_NAME then
    return string.format('The "Best" %s of %s', core, pick(CITIES))
  end
  return pick(NAME_PREFIX) .. " " .. core .. pick(SUFFIX_TAIL)
end

-- Cents in [10000, 4999999999]: 100.00 ... 49999999.99, always two fraction digits.
local function revenue()
  local cents = 10000 + below(5000000000 - 10000)
  return string.format("%d.%02d", cents // 100, cents % 100)
end

local function primary_contact()
  if uniform() < P_NO_CONTACT then return "" end
  return random_contact_email()
end

-- Fills `row` (an array in ACCOUNT_FIELDS order, reused between rows) with account i.
local function account_row(i, row)
  seed_stream(STREAM_ACCOUNT, i)
  row[1] = string.format("AC%07d", i)
  row[2] = company_name()
  row[3] = pick(REGION_CODES)
  row[4] = pick(USER_KEYS)
  row[5] = primary_contact()
  row[6] = uniform() < P_INACTIVE and "inactive" or "active"
  row[7] = revenue()
  row[8] = pick(CITIES)
end

local COLUMN = {}
for i, name in ipairs(ACCOUNT_FIELDS) do COLUMN[name] = i end

local NEW_VALUE = {
  name = company_name,
  revenue = revenue,
  city = function() return pick(CITIES) end,
  region_code = function() return pick(REGION_CODES) end,
  owner_domainname = function() return pick(USER_KEYS) end,
  primarycontact_email = random_contact_email,
}

-- Changes 1-3 distinct fields of row i (already filled) to different values; returns
-- the changed column names, sorted and joined by "|".
local changeable = {}
local function modify_row(i, row)
  seed_stream(STREAM_CHANGE, i)
  local k = pick(CHANGE_COUNTS)
  for j, name in ipairs(CHANGEABLE) do changeable[j] = name end
  -- partial Fisher-Yates: the first k entries become a uniform k-subset
  for j = 1, k do
    local r = j + below(#changeable - j + 1)
    changeable[j], changeable[r] = changeable[r], changeable[j]
  end
  local fields = {}
  for j = 1, k do
    local name = changeable[j]
    local col, old, new = COLUMN[name], row[COLUMN[name]], nil
    repeat new = NEW_VALUE[name]() until new ~= old
    row[col] = new
    fields[j] = name
  end
  table.sort(fields)
  return table.concat(fields, "|")
end

---------------------------------------------------------------------------------------
-- The plan: which existing rows are deleted, modified or flipped. A partial Fisher-Yates
-- over 1..N with a sparse swap table draws the three disjoint sets without an N-sized
-- array.
---------------------------------------------------------------------------------------

local DELETED, MODIFIED, FLIPPED = 1, 2, 3

local function plan_changes(n, n_del, n_mod, n_flip)
  seed_stream(STREAM_PLAN, 0)
  local kind, swapped = {}, {}
  local total = n_del + n_mod + n_flip
  for t = 1, total do
    local r = t + below(n - t + 1)
    local chosen = swapped[r] or r
    swapped[r] = swapped[t] or t
    swapped[t] = nil
    kind[chosen] = t <= n_del and DELETED or t <= n_del + n_mod and MODIFIED or FLIPPED
  end
  return kind
end

---------------------------------------------------------------------------------------
-- Files
---------------------------------------------------------------------------------------

local function open_csv(dir, name, header)
  local ok, w = pcall(csv.writer, dir .. "/" .. name, header)
  if not ok then
    error(string.format("OUTDIR %s must exist (create it first): %s",
      dir, type(w) == "table" and tostring(w.message) or tostring(w)), 0)
  end
  return w
end

local function write_users(dir)
  local w = open_csv(dir, "users.csv", { "domainname", "fullname" })
  seed_stream(STREAM_USERS, 0)
  for _, key in ipairs(USER_KEYS) do
    local first, last = pick(FIRST), pick(LAST)
    w:write({ key, first .. " " .. last })
  end
  w:close()
  return N_USERS
end

local function write_regions(dir)
  local w = open_csv(dir, "regions.csv", { "code", "name" })
  for _, r in ipairs(REGIONS) do w:write(r) end
  w:close()
  return #REGIONS
end

local function write_contacts(dir)
  local w = open_csv(dir, "contacts.csv", { "emailaddress1", "firstname", "lastname", "city" })
  local row = {}
  for c = 1, n_contacts do
    local f, l, city = contact_parts(c)
    row[1], row[2], row[3], row[4] = contact_email(c), FIRST[f], LAST[l], CITIES[city]
    w:write(row)
  end
  w:close()
  return n_contacts
end

local function write_initial(dir, n)
  local w = open_csv(dir, "accounts_initial.csv", ACCOUNT_FIELDS)
  local row = {}
  for i = 1, n do
    account_row(i, row)
    w:write(row)
  end
  w:close()
  return n
end

-- One pass over 1..N (then the new accounts) writes the delta export and the answer
-- key together; both come out in account-number order, so the key needs no sorting.
local function write_delta(dir, n, n_new, kind)
  local w = open_csv(dir, "accounts_delta.csv", ACCOUNT_FIELDS)
  local key = open_csv(dir, "expected_changes.csv", { "accountnumber", "kind", "fields" })
  local row, change = {}, {}
  local rows, changes = 0, 0
  local function expect(what, fields)
    change[1], change[2], change[3] = row[1], what, fields
    key:write(change)
    changes = changes + 1
  end
  for i = 1, n do
    local k = kind[i]
    account_row(i, row)
    if k == DELETED then
      expect("deleted", "")
    else
      if k == MODIFIED then
        expect("modified", modify_row(i, row))
      elseif k == FLIPPED then
        row[6] = row[6] == "active" and "inactive" or "active"
        expect("status", "status")
      end
      w:write(row)
      rows = rows + 1
    end
  end
  for i = n + 1, n + n_new do
    account_row(i, row)
    w:write(row)
    rows = rows + 1
    expect("new", "")
  end
  w:close()
  key:close()
  return rows, changes
end

---------------------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------------------

local function parse_args()
  local n = math.tointeger(tonumber(arg[1] or ""))
  local seed = math.tointeger(tonumber(arg[2] or ""))
  local dir = arg[3]
  if not n or not seed or not dir or dir == "" then error(USAGE, 0) end
  if n < 1 or n > 9000000 then error("N must be in 1..9000000 (7-digit account numbers)", 0) end
  return n, seed, (dir:gsub("/+$", ""))
end

local function main()
  local n, seed, dir = parse_args()
  init_streams(seed)
  n_contacts = math.max(1, n // 2)

  local counts = {
    deleted = round_half_even(n * FRAC_DELETED),
    modified = round_half_even(n * FRAC_MODIFIED),
    status_flipped = round_half_even(n * FRAC_STATUS_FLIP),
    new = round_half_even(n * FRAC_NEW),
  }
  -- With a single contact no other primary contact exists to change to.
  if n_contacts < 2 then CHANGEABLE[#CHANGEABLE] = nil end

  local kind = plan_changes(n, counts.deleted, counts.modified, counts.status_flipped)

  local files = {}
  files["users.csv"] = { rows = write_users(dir) }
  files["regions.csv"] = { rows = write_regions(dir) }
  files["contacts.csv"] = { rows = write_contacts(dir) }
  files["accounts_initial.csv"] = { rows = write_initial(dir, n) }
  local delta_rows, expected = write_delta(dir, n, counts.new, kind)
  files["accounts_delta.csv"] = { rows = delta_rows }
  files["expected_changes.csv"] = { rows = expected }

  -- Written last: a manifest means the files are complete. Same keys as the reference
  -- generator's manifest (the peers read accounts, seed, expected_changes, files.*.rows).
  local m = json.writer(dir .. "/manifest.json")
  m:write({
    generator = "scripts/bench/gen_workload.lua",
    n = n,
    accounts = n,
    seed = seed,
    delta = counts,
    expected_changes = expected,
    expected_changed_upserts = counts.modified + counts.status_flipped + counts.new,
    files = files,
    sha256 = "omitted",
  })
  m:close()

  print(string.format("generated %d accounts in %s: initial %d, delta %d, expected %d",
    n, dir, n, delta_rows, expected))
end

main()
