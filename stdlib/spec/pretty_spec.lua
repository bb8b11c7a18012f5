-- Specs for cdsync.pretty: value formatting and aligned record tables.
local spec = require("cdsync.spec")
local pretty = require("cdsync.pretty")
local describe, it, expect = spec.describe, spec.it, spec.expect

describe("pretty.format", function()
  it("formats scalars", function()
    expect(pretty.format(nil)).to_be("nil")
    expect(pretty.format(42)).to_be("42")
    expect(pretty.format(1.5)).to_be("1.5")
    expect(pretty.format(true)).to_be("true")
    expect(pretty.format('say "hi"\n')).to_be('"say \\"hi\\"\\n"')
  end)
  it("sorts keys and indents nested tables", function()
    expect(pretty.format({ b = 2, a = { c = "x" } })).to_be('{\n  a = {\n    c = "x"\n  },\n  b = 2\n}')
  end)
  it("puts numeric keys first and brackets keys that are not names", function()
    expect(pretty.format({ [2] = "two", ["a b"] = 1, ["end"] = 3, x = 4 }, { indent = " " }))
      .to_be('{\n [2] = "two",\n ["a b"] = 1,\n ["end"] = 3,\n x = 4\n}')
  end)
  it("keeps short arrays on one line and breaks long ones", function()
    expect(pretty.format({ 1, 2, "three" })).to_be('{1, 2, "three"}')
    local long = {}
    for i = 1, 30 do
      long[i] = "item" .. i
    end
    expect(pretty.format(long)).to_match('^{\n  "item1",\n  "item2",\n')
  end)
  it("shows empty tables as {}", function()
    expect(pretty.format({})).to_be("{}")
  end)
  it("marks cycles and keeps shared tables", function()
    local node = { name = "n" }
    node.self = node
    expect(pretty.format(node)).to_be('{\n  name = "n",\n  self = <cycle>\n}')
    local shared = { 1 }
    expect(pretty.format({ a = shared, b = shared })).to_be("{\n  a = {1},\n  b = {1}\n}")
  end)
  it("stops at max_depth", function()
    expect(pretty.format({ a = { b = { c = 1 } } }, { max_depth = 2 })).to_be("{\n  a = {\n    b = {...}\n  }\n}")
  end)
  it("shows decimals by their exact text and cds.null by name", function()
    expect(pretty.format({ revenue = cds.decimal("12.50"), fax = cds.null }))
      .to_be("{\n  fax = cds.null,\n  revenue = 12.50\n}")
  end)
  it("formats a record read back from the store", function()
    cds.upsert("account", { accountnumber = "P-1" }, { name = "Pretty Co", revenue = cds.decimal("7.25") })
    cds.flush()
    local text = pretty.format(cds.get("account", { accountnumber = "P-1" }))
    expect(text).to_match('name = "Pretty Co"')
    expect(text).to_match("revenue = 7%.25")
    expect(text).to_match('accountnumber = "P%-1"')
  end)
end)

describe("pretty.print", function()
  it("prints strings as they are and formats other values, then returns its arguments", function()
    local lines, original = {}, print
    _G.print = function(text) lines[#lines + 1] = text end -- capture, restored below even on failure
    local ok, a, b = pcall(pretty.print, "label", { 1, "x" })
    _G.print = original
    expect(ok).to_be(true)
    expect(lines).to_equal({ 'label {1, "x"}' })
    expect(a).to_be("label")
    expect(b).to_equal({ 1, "x" })
  end)
end)

describe("pretty.table", function()
  local records = {
    { name = "Contoso", accountnumber = "A-1", employees = 120 },
    { name = "Fabrikam", accountnumber = "A-22", employees = 7 },
    { name = "Northwind", accountnumber = "A-3" },
  }
  it("aligns columns under a header and right-aligns numbers", function()
    expect(pretty.table(records, { "accountnumber", "name", "employees" })).to_be(table.concat({
      "accountnumber  name       employees",
      "-------------  ---------  ---------",
      "A-1            Contoso          120",
      "A-22           Fabrikam           7",
      "A-3            Northwind",
    }, "\n"))
  end)
  it("uses every column, sorted, when none are given", function()
    expect(pretty.table({ { b = 1, a = 2 } })).to_be("a  b\n-  -\n2  1")
  end)
  it("truncates long cells with … to fit max_width", function()
    local text = pretty.table({ { code = "X", note = string.rep("long text ", 10) } }, { "code", "note" }, { max_width = 20 })
    expect(text).to_be("code  note\n----  --------------\nX     long text lon…")
    for line in text:gmatch("[^\n]+") do
      expect(utf8.len(line) <= 20).to_be(true)
    end
  end)
  it("counts characters, not bytes", function()
    expect(pretty.table({ { city = "Zürich" }, { city = "Köln" } }, { "city" })).to_be("city\n------\nZürich\nKöln")
  end)
  it("shows nil and cds.null as empty cells and decimals as text", function()
    expect(pretty.table({ { a = cds.null, b = cds.decimal("1.50") } }, { "a", "b" })).to_be("a  b\n-  ----\n   1.50")
  end)
end)

return spec.run()
