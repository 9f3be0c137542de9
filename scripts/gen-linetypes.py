#!/usr/bin/env python3
"""Generate Sources/SandiCore/Resources/numbering/line-types.json from libphonenumber metadata.

What it does
    Reads the numbering metadata shipped with the `phonenumbers` Python package
    (a port of Google's libphonenumber) and writes one JSON object:

        {"data_version": "9.0.43",
         "regions": {"ID": {"general": "<regex>", "mobile": "<regex>",
                            "fixed_line": "<regex>", ...}, ...}}

    For every geographic region in the metadata (the non-geographic "001"
    entities are skipped) it records the `national_number_pattern` of the
    general description (key "general") and of each number-type description
    that exists and has a pattern: fixed_line, mobile, premium_rate, toll_free,
    shared_cost, voip, personal_number, pager, uan, voicemail. Types without a
    pattern are omitted. The patterns are copied verbatim from
    `phonenumbers.PhoneMetadata.metadata_for_region(region)`; they are
    Java-style regular expressions meant to match the whole national
    significant number, which Sandi's `LineTypeClassifier` compiles as
    `^(?:pattern)$` with NSRegularExpression (ICU).

    The possible-length lists of the metadata are not exported: libphonenumber
    checks them before the pattern only as a shortcut, and for phonenumbers
    9.0.43 classifying by the patterns alone gives the same type as
    `phonenumbers.number_type` (checked by sampling, see the report that came
    with this script).

    Before writing, every pattern is scanned for constructs that ICU does not
    share with Python's `re` or that would change full-match semantics
    (possessive quantifiers, lookaround, backreferences, anchors, named groups,
    inline flags, Unicode property escapes); any finding is printed to stderr
    and makes the script exit with status 1 without writing. Each pattern must
    also compile with Python's `re`.

    Keys are sorted, the output uses two-space indentation and ends with a
    newline, and there are no timestamps, so the file is stable across runs.

How to run
    pip install phonenumbers==9.0.43
    python3 scripts/gen-linetypes.py        # from the repository root

Licence of the data
    The metadata is Copyright The Libphonenumber Authors, licensed under the
    Apache License, Version 2.0, obtained through the `phonenumbers` package
    (https://github.com/daviddrysdale/python-phonenumbers).
"""

import json
import os
import re
import sys

import phonenumbers
from phonenumbers import PhoneMetadata

EXPECTED_VERSION = "9.0.43"
OUTPUT = os.path.join("Sources", "SandiCore", "Resources", "numbering", "line-types.json")

# JSON key -> PhoneMetadata attribute.
DESCRIPTIONS = [
    ("general", "general_desc"),
    ("fixed_line", "fixed_line"),
    ("mobile", "mobile"),
    ("premium_rate", "premium_rate"),
    ("toll_free", "toll_free"),
    ("shared_cost", "shared_cost"),
    ("voip", "voip"),
    ("personal_number", "personal_number"),
    ("pager", "pager"),
    ("uan", "uan"),
    ("voicemail", "voicemail"),
]

# Constructs that are not plain regular-language syntax shared by Java, ICU and Python.
SUSPICIOUS = [
    (re.compile(r"[*+?}]\+"), "possessive quantifier"),
    (re.compile(r"\(\?<?[=!]"), "lookaround"),
    (re.compile(r"\(\?<?[A-Za-z]"), "named group or inline flag"),
    (re.compile(r"\(\?>"), "atomic group"),
    (re.compile(r"\\[1-9kpPQEbBAzZG]"), "backreference, property, quoting or anchor escape"),
    (re.compile(r"[\^$]"), "anchor"),
    (re.compile(r"[^0-9\\d\[\]\-(){},|?:*+]"), "character outside digits/\\d/classes/groups/quantifiers"),
]


def scan(pattern):
    """Return descriptions of suspicious constructs in a pattern (empty when clean)."""
    findings = []
    # Strip the harmless `\d` escapes and non-capturing group openers before the character check.
    for rx, what in SUSPICIOUS:
        text = pattern
        if what.startswith("character outside"):
            text = pattern.replace("\\d", "").replace("(?:", "(")
        if rx.search(text):
            findings.append(what)
    try:
        re.compile(pattern)
    except re.error as error:
        findings.append(f"does not compile: {error}")
    return findings


def collect():
    regions = {}
    problems = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        if region == "001":
            continue
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            continue
        entry = {}
        for key, attribute in DESCRIPTIONS:
            desc = getattr(metadata, attribute, None)
            pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
            if not pattern:
                continue
            for finding in scan(pattern):
                problems.append(f"{region}.{key}: {finding}: {pattern}")
            entry[key] = pattern
        if "general" not in entry:
            problems.append(f"{region}: no general pattern")
            continue
        regions[region] = entry
    return regions, problems


def main():
    version = phonenumbers.__version__
    if version != EXPECTED_VERSION:
        print(f"warning: phonenumbers {version} installed, expected {EXPECTED_VERSION}", file=sys.stderr)
    regions, problems = collect()
    if problems:
        for problem in problems:
            print(f"pattern concern: {problem}", file=sys.stderr)
        sys.exit(1)
    document = {"data_version": version, "regions": regions}
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    os.makedirs(os.path.dirname(OUTPUT), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    print(f"wrote {OUTPUT}: {len(regions)} regions, {len(text.encode('utf-8'))} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
