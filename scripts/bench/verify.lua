-- Checks a change file against the answer key: the exact set of account numbers and, for
-- each, the operation (modified/status/new -> upsert, deleted -> delete).
-- Usage: cdsync run scripts/bench/verify.lua --db STORE -- CHANGES_JSONL EXPECTED_CSV
local changes_path, expected_path = assert(arg[1]), assert(arg[2])
local expected, count = {}, 0
for row in csv.rows(expected_path) do
  expected[row.accountnumber] = row.kind == "deleted" and "delete" or "upsert"
  count = count + 1
end
local missing, extra, wrong, unnamed, seen = {}, {}, {}, {}, 0
for change in json.lines(changes_path) do
  local op = change.accountnumber ~= nil and expected[change.accountnumber] or nil
  if change.accountnumber == nil then
    -- a change without an account number cannot be matched: a mismatch, named by op and id
    unnamed[#unnamed + 1] = ("%s:%s"):format(tostring(change.op), tostring(change.id))
  elseif op == nil then extra[#extra + 1] = tostring(change.accountnumber)
  elseif op ~= change.op then wrong[#wrong + 1] = change.accountnumber
  else seen = seen + 1 end
  if change.accountnumber ~= nil then expected[change.accountnumber] = false end
end
for number, op in pairs(expected) do if op then missing[#missing + 1] = number end end
local function sample(list) table.sort(list); return table.concat(list, " ", 1, math.min(#list, 5)) end
print(("expected %d, matched %d, missing %d, extra %d, wrong op %d, without account number %d"):format(
  count, seen, #missing, #extra, #wrong, #unnamed))
if #missing + #extra + #wrong + #unnamed > 0 then
  error(("changes do not match the answer key: missing [%s] extra [%s] wrong [%s] without account number [%s]"):format(
    sample(missing), sample(extra), sample(wrong), sample(unnamed)))
end
