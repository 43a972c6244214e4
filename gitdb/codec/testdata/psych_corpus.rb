# The values Rails applications serialize with Psych: YAML.dump of each,
# one JSON string per line (the tests compare the yaml codec with it).
require "yaml"
require "json"
module ActiveSupport; class HashWithIndifferentAccess < Hash; end; end
def hwia(h) = ActiveSupport::HashWithIndifferentAccess.new.merge!(h)
values = [
  {"theme"=>"dark", "per_page"=>20, "ratio"=>1.5, "notify"=>true, "off"=>false, "none"=>nil},
  hwia({"theme"=>"dark", "accent"=>"#ff0000", "posts_per_page"=>10, "nested"=>hwia({"a"=>1}), "empty"=>hwia({})}),
  [:read, :write, :admin],
  {"permissions"=>[:read, :write], "roles"=>["editor", "admin"], :sym_key=>:val},
  {"list"=>[{"a"=>1, "b"=>2}, [1, 2], [], {}], "s"=>"yes", "n"=>"123", "q"=>"it's: here"},
  {"ml"=>"line1\nline2", "ml2"=>"a\nb\n", "tab"=>"tab\there", "e"=>"", "sp"=>" lead", "hash"=>"#x", "date"=>"2024-01-01", "f"=>"1.5"},
  {"unicode"=>"café ✓", "colon"=>":notsym", "url"=>"https://example.com/a?b=c", "email"=>"a@b.example", "k: v"=>"x"},
  {"deep"=>{"a"=>{"b"=>{"c"=>[1, {"d"=>nil}]}}}},
  {"nil_list"=>[nil, "", nil], "bools"=>[true, false], "neg"=>-5, "big"=>12345678901234567890, "float"=>-0.25, "exp"=>1.0e-5},
  ["a", ["b", ["c"]]],
  {"z"=>1, "a"=>2, "m"=>3},
  hwia({"prefs"=>hwia({"locale"=>"en", "tz"=>"UTC"}), "flags"=>[:beta]}),
]
values.each { |v| puts JSON.generate(YAML.dump(v)) }
