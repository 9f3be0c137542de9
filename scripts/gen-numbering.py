#!/usr/bin/env python3
"""Generate Sources/SandiCore/Numbering/NumberingData.swift from libphonenumber metadata.

What it does
    Reads the numbering metadata and the English carrier-prefix data shipped
    with the `phonenumbers` Python package (a port of Google's libphonenumber)
    and writes a Swift extension `NumberingPlan.generated` containing:

    * one `RegionInfo` per supported region (non-geographic "001" entities
      skipped), sorted by ISO code: calling code, national prefix, possible
      lengths of the national significant number (general and mobile), the
      first digits a mobile number may start with, and whether the region is
      the main region for its calling code;
    * one English carrier prefix per line of a `CarrierPrefix.parse(table:)`
      multi-line string literal (`callingCode|prefix|name`), for the corridor
      calling codes listed in CARRIER_CODES, sorted by (calling code, prefix).
      The prefix is the part after the calling code, kept exactly as in the
      data (some are longer than three digits, e.g. "8510"). A table in one
      string literal keeps the Swift type checker fast, unlike an array
      literal of thousands of initialiser calls.

    `mobileLeading` is exact: the set of first characters of the mobile
    national_number_pattern, obtained by walking the tree that Python's own
    regular-expression parser (sre_parse / re._parser) builds for it, restricted
    to the digits 0-9. Any construct the walker does not know raises, so
    nothing is silently mis-read. (It ignores the possible lengths, so it can
    only be a superset of what a length-aware reading would give.) Regions
    without a mobile description get [] (unknown: accept any).

    For checking, the former sampling rule (per first digit and mobile length,
    200 seeded pseudo-random numbers plus d*L tested with re.fullmatch, plus
    the example number's first digit) is still computed; a comparison for the
    corridor and a few reference regions is printed to stderr, and the script
    fails if the sample ever finds a digit the exact reading does not.

    The output is sorted and contains no timestamps, so it is stable across
    runs. If the generated file would exceed 1 MiB, the carrier entries of the
    corridor country with the most entries are dropped (repeatedly, if needed)
    and that is noted in the generated file's header and printed to stderr.
    With phonenumbers 9.0.43 no entries need to be dropped.

How to run
    pip install phonenumbers==9.0.43
    python3 scripts/gen-numbering.py        # from the repository root

Licence of the data
    The metadata and carrier data are Copyright The Libphonenumber Authors,
    licensed under the Apache License, Version 2.0, obtained through the
    `phonenumbers` package (https://github.com/daviddrysdale/python-phonenumbers).
"""

import os
import random
import re
import sys

try:  # Python 3.11+
    import re._parser as sre_parse
    import re._constants as sre_constants
except ImportError:  # older Pythons
    import sre_parse
    import sre_constants

import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers.carrierdata import CARRIER_DATA

EXPECTED_VERSION = "9.0.43"
OUTPUT = os.path.join("Sources", "SandiCore", "Numbering", "NumberingData.swift")
MAX_BYTES = 1024 * 1024
SAMPLES = 200
DIGITS = frozenset("0123456789")

# Regions for which the exact and sampled mobileLeading are compared on stderr.
COMPARE_REGIONS = [
    "ID", "PH", "VN", "MY", "TH", "MM", "KH", "NP", "BD", "IN", "LK", "CN", "TL", "SG",
    "US", "GB", "ZA", "ES", "PT",
]

# Corridor countries whose carrier prefixes are emitted: calling code -> ISO.
CARRIER_CODES = {
    62: "ID", 63: "PH", 84: "VN", 60: "MY", 66: "TH", 95: "MM", 855: "KH",
    977: "NP", 880: "BD", 91: "IN", 94: "LK", 86: "CN", 670: "TL", 65: "SG",
}


def swift_string(s):
    """A Swift string literal for s."""
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def lengths_of(desc):
    """Sorted distinct possible lengths of a PhoneNumberDesc, sentinel -1 dropped."""
    if desc is None or desc.possible_length is None:
        return []
    return sorted({n for n in desc.possible_length if n != -1})


def has_pattern(desc):
    return desc is not None and bool(desc.national_number_pattern)


def _first_of_item(op, av):
    """(first-character set, can-match-empty) of one parsed regex item."""
    c = sre_constants
    if op is c.LITERAL:
        return {chr(av)}, False
    if op is c.ANY:
        return set(DIGITS), False  # only digits matter here
    if op is c.IN:
        chars = set()
        for iop, iav in av:
            if iop is c.LITERAL:
                chars.add(chr(iav))
            elif iop is c.RANGE:
                lo, hi = iav
                chars.update(chr(x) for x in range(lo, hi + 1))
            elif iop is c.CATEGORY and iav is c.CATEGORY_DIGIT:
                chars.update(DIGITS)
            else:
                raise ValueError(f"unsupported item in character class: {iop} {iav!r}")
        return chars, False
    if op is c.SUBPATTERN:
        return _first_of_seq(av[-1])
    if op is c.BRANCH:
        chars, nullable = set(), False
        for alt in av[1]:
            s, n = _first_of_seq(alt)
            chars |= s
            nullable = nullable or n
        return chars, nullable
    if op is c.MAX_REPEAT or op is c.MIN_REPEAT:
        lo, hi, sub = av
        if hi == 0:
            return set(), True
        s, n = _first_of_seq(sub)
        return s, (lo == 0 or n)
    raise ValueError(f"unsupported regex construct: {op} {av!r}")


def _first_of_seq(seq):
    """(first-character set, can-match-empty) of a parsed regex sequence."""
    chars = set()
    for op, av in seq:
        s, nullable = _first_of_item(op, av)
        chars |= s
        if not nullable:
            return chars, False
    return chars, True


def first_digits(pattern):
    """Exact set of digits a string fully matching `pattern` can start with."""
    chars, _ = _first_of_seq(sre_parse.parse(pattern))
    return chars & DIGITS


def mobile_leading(desc):
    """First digits a mobile national significant number can start with (exact, see module doc)."""
    if not has_pattern(desc):
        return []
    digits = first_digits(desc.national_number_pattern)
    if desc.example_number:
        assert desc.example_number[0] in digits, (desc.national_number_pattern, desc.example_number)
    return sorted(digits)


def mobile_leading_sampled(iso, desc, mobile_lengths):
    """The former sampling rule, kept only to cross-check the exact reading."""
    if not has_pattern(desc):
        return []
    pattern = re.compile("(?:" + desc.national_number_pattern + ")")
    digits = set()
    for d in "0123456789":
        found = False
        for length in mobile_lengths:
            rng = random.Random(f"{iso}{d}{length}")
            candidates = [d * length]
            for _ in range(SAMPLES):
                candidates.append(d + "".join(rng.choice("0123456789") for _ in range(length - 1)))
            if any(pattern.fullmatch(c) for c in candidates):
                found = True
                break
        if found:
            digits.add(d)
    if desc.example_number:
        digits.add(desc.example_number[0])
    return sorted(digits)


def regions():
    rows = []
    for iso in sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r != "001"):
        md = PhoneMetadata.metadata_for_region(iso)
        if md is None:
            continue
        code = md.country_code
        general = lengths_of(md.general_desc)
        mobile = md.mobile
        mobile_lengths = lengths_of(mobile) if has_pattern(mobile) else []
        if not mobile_lengths:
            mobile_lengths = general
        rows.append({
            "iso": iso,
            "callingCode": code,
            "nationalPrefix": md.national_prefix or None,
            "lengths": general,
            "mobileLengths": mobile_lengths,
            "mobileLeading": mobile_leading(mobile),
            "sampledLeading": mobile_leading_sampled(iso, mobile, mobile_lengths),
            "isMainForCode": phonenumbers.region_code_for_country_code(code) == iso,
        })
    return rows


def compare_leading(region_rows):
    """Print exact vs sampled mobileLeading to stderr; fail if the sample found more."""
    by_iso = {r["iso"]: r for r in region_rows}
    print("mobileLeading exact vs sampled:", file=sys.stderr)
    for iso in COMPARE_REGIONS:
        r = by_iso[iso]
        exact, sampled = r["mobileLeading"], r["sampledLeading"]
        extra = sorted(set(exact) - set(sampled))
        note = f"  (+{''.join(extra)} exact only)" if extra else ""
        print(f"  {iso}: exact {''.join(exact) or '-'}  sampled {''.join(sampled) or '-'}{note}",
              file=sys.stderr)
    differing = [r["iso"] for r in region_rows if r["mobileLeading"] != r["sampledLeading"]]
    print(f"  regions where exact != sampled: {len(differing)} ({', '.join(differing)})",
          file=sys.stderr)
    missing = {r["iso"]: sorted(set(r["sampledLeading"]) - set(r["mobileLeading"]))
               for r in region_rows if set(r["sampledLeading"]) - set(r["mobileLeading"])}
    if missing:
        raise AssertionError(f"exact reading misses digits found by sampling: {missing}")
    assert {"2", "4"} <= set(by_iso["KH"]["mobileLeading"]), by_iso["KH"]["mobileLeading"]
    assert {"2", "3", "4"} <= set(by_iso["ZA"]["mobileLeading"]), by_iso["ZA"]["mobileLeading"]


def table_line(code, prefix, name):
    """One `callingCode|prefix|name` line of the carrier table."""
    for field in (prefix, name):
        assert field and "|" not in field and "\\" not in field, field
        assert not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in field), field
    line = f"{code}|{prefix}|{name}"
    # Swift multi-line string literal: escape backslashes and triple quotes.
    return line.replace("\\", "\\\\").replace('"""', '\\"""')


def carriers():
    by_code = {code: [] for code in CARRIER_CODES}
    for key, names in CARRIER_DATA.items():
        name = (names.get("en") or "").strip()
        if not name:
            continue
        for code in CARRIER_CODES:  # calling codes are prefix-free
            cc = str(code)
            if key.startswith(cc) and len(key) > len(cc):
                by_code[code].append((key[len(cc):], name))
                break
    for code in by_code:
        by_code[code].sort()
    return by_code


def render(version, region_rows, carrier_rows, dropped):
    lines = [
        f"// Generated by scripts/gen-numbering.py from phonenumbers {version} "
        "(libphonenumber metadata, Apache-2.0).",
        "// Do not edit by hand; run `python3 scripts/gen-numbering.py` to regenerate.",
    ]
    for code in dropped:
        lines.append(
            f"// Note: carrier prefixes for +{code} ({CARRIER_CODES[code]}) were dropped "
            "to keep this file under 1 MiB."
        )
    lines += [
        "",
        "extension NumberingPlan {",
        "    /// The numbering plan generated from libphonenumber's metadata.",
        "    public static let generated = NumberingPlan(",
        f"        dataVersion: {swift_string(version)},",
        "        regions: [",
    ]
    for r in region_rows:
        np_ = "nil" if r["nationalPrefix"] is None else swift_string(r["nationalPrefix"])
        lengths = ", ".join(str(n) for n in r["lengths"])
        mlengths = ", ".join(str(n) for n in r["mobileLengths"])
        leading = ", ".join(swift_string(d) for d in r["mobileLeading"])
        main = "true" if r["isMainForCode"] else "false"
        lines.append(
            f"            RegionInfo(iso: {swift_string(r['iso'])}, callingCode: {r['callingCode']}, "
            f"nationalPrefix: {np_}, lengths: [{lengths}], mobileLengths: [{mlengths}], "
            f"mobileLeading: [{leading}], isMainForCode: {main}),"
        )
    lines += ["        ],", '        carriers: CarrierPrefix.parse(table: """']
    for code in sorted(carrier_rows):
        if code in dropped:
            continue
        for prefix, name in carrier_rows[code]:
            lines.append("            " + table_line(code, prefix, name))
    lines += ['            """)', "    )", "}", ""]
    return "\n".join(lines)


def main():
    version = phonenumbers.__version__
    if version != EXPECTED_VERSION:
        print(f"warning: phonenumbers {version} installed, expected {EXPECTED_VERSION}",
              file=sys.stderr)
    region_rows = regions()
    compare_leading(region_rows)
    carrier_rows = carriers()
    dropped = []
    text = render(version, region_rows, carrier_rows, dropped)
    while len(text.encode("utf-8")) > MAX_BYTES:
        remaining = [c for c in carrier_rows if c not in dropped and carrier_rows[c]]
        if not remaining:
            break
        largest = max(remaining, key=lambda c: (len(carrier_rows[c]), -c))
        dropped.append(largest)
        print(f"note: dropping {len(carrier_rows[largest])} carrier prefixes for +{largest} "
              f"({CARRIER_CODES[largest]}) to stay under 1 MiB", file=sys.stderr)
        text = render(version, region_rows, carrier_rows, dropped)
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    n_carriers = sum(len(v) for c, v in carrier_rows.items() if c not in dropped)
    print(f"wrote {OUTPUT}: {len(text.encode('utf-8'))} bytes, {len(region_rows)} regions, "
          f"{n_carriers} carrier prefixes")


if __name__ == "__main__":
    main()
