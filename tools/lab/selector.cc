#include "tools/lab/selector.h"

#include <fnmatch.h>

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/lab/inventory.h"

namespace xehil::lab {

const char kSelectorHelp[] =
    "host selectors (--hosts):\n"
    "  all                every host in the inventory\n"
    "  NAME               that host, and hosts with a label whose key is NAME\n"
    "  KEY=VALUE          hosts with that label\n"
    "  A,B                hosts matching A or B\n"
    "  A+B                hosts matching A and B (+ binds tighter than ,)\n"
    "  wildcards * and ? in names and values: sim-*, gpu=*\n"
    "  e.g. --hosts=gpu=xe+rack=b,sim-1\n";

namespace {

bool Glob(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool HasGlob(absl::string_view s) {
  return s.find_first_of("*?") != absl::string_view::npos;
}

struct Atom {
  std::string key;    // name, or label key
  std::string value;  // with '='
  bool has_value = false;
  bool all = false;
};

bool HasLabel(const Host& host, const Atom& atom) {
  for (const std::string& label : host.labels()) {
    std::vector<std::string> kv =
        absl::StrSplit(label, absl::MaxSplits('=', 1));
    if (!Glob(atom.key, kv[0])) continue;
    if (!atom.has_value) return true;
    if (Glob(atom.value, kv.size() == 2 ? kv[1] : "")) return true;
  }
  return false;
}

bool Matches(const Host& host, const Atom& atom) {
  if (atom.all) return true;
  if (atom.has_value) return HasLabel(host, atom);
  return Glob(atom.key, host.name()) || HasLabel(host, atom);
}

bool Known(const Inventory& inventory, const Atom& atom) {
  for (const Host& host : inventory.hosts()) {
    if (Matches(host, atom)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<int>> SelectHosts(const Inventory& inventory,
                                             absl::string_view selector) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--hosts='", selector, "': ", why));
  };
  if (absl::StripAsciiWhitespace(selector).empty()) {
    return bad("empty selector (use 'all' for every host)");
  }
  std::vector<std::vector<Atom>> terms;
  for (absl::string_view term_text : absl::StrSplit(selector, ',')) {
    std::vector<Atom> term;
    for (absl::string_view atom_text : absl::StrSplit(term_text, '+')) {
      atom_text = absl::StripAsciiWhitespace(atom_text);
      if (atom_text.empty()) return bad("an empty term around ',' or '+'");
      Atom atom;
      std::vector<absl::string_view> kv =
          absl::StrSplit(atom_text, absl::MaxSplits('=', 1));
      atom.key = std::string(absl::StripAsciiWhitespace(kv[0]));
      if (kv.size() == 2) {
        atom.has_value = true;
        atom.value = std::string(absl::StripAsciiWhitespace(kv[1]));
      }
      atom.all = !atom.has_value && atom.key == "all";
      std::string plain = atom.key;
      plain.erase(std::remove_if(plain.begin(), plain.end(),
                                 [](char c) { return c == '*' || c == '?'; }),
                  plain.end());
      if (atom.key.empty() || (!plain.empty() && !IsValidName(plain)) ||
          absl::StrContains(atom.key, '[')) {
        return bad(
            absl::StrCat("'", atom_text, "' is not NAME, KEY=VALUE or all"));
      }
      // A plain word that names nothing is most likely a typo.
      if (!atom.all && !atom.has_value && !HasGlob(atom.key) &&
          !Known(inventory, atom)) {
        return bad(absl::StrCat("'", atom.key,
                                "' is neither a host nor a label key in the "
                                "inventory"));
      }
      term.push_back(std::move(atom));
    }
    terms.push_back(std::move(term));
  }
  std::vector<int> selected;
  for (int i = 0; i < inventory.hosts_size(); ++i) {
    for (const std::vector<Atom>& term : terms) {
      bool all = true;
      for (const Atom& atom : term)
        all = all && Matches(inventory.hosts(i), atom);
      if (all) {
        selected.push_back(i);
        break;
      }
    }
  }
  if (selected.empty()) {
    std::vector<std::string> names;
    for (const Host& h : inventory.hosts()) names.push_back(h.name());
    return bad(absl::StrCat(
        "matches no host (hosts: ", absl::StrJoin(names, ", "), ")"));
  }
  return selected;
}

}  // namespace xehil::lab
