#!/usr/bin/env python3
"""Regenerate crates/core/src/ncsc/suites.rs from the reference table (ncsc-tls.md section 4).

Usage: python3 scripts/gen-ncsc-suites.py ../shared/reference/ncsc-tls.md > crates/core/src/ncsc/suites.rs
Then run `cargo fmt`. The unit test re-reads the same table, so drift is caught either way.
"""
import sys

LEVEL = {"G": "Good", "S": "Sufficient", "PO": "PhaseOut", "I": "Insufficient"}


def rows(path):
    in_section = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("## 4."):
            in_section = True
        if line.startswith("### 4.1"):
            in_section = False
        if in_section and line.startswith("| 0x"):
            yield [c.strip() for c in line.strip().strip("|").split("|")]


def main():
    table = sorted(rows(sys.argv[1]), key=lambda r: int(r[0].replace("0x", "").replace(",", ""), 16))
    print(open(__file__.replace("gen-ncsc-suites.py", "ncsc-suites-header.rs.txt")).read(), end="")
    for r in table:
        code = int(r[0].replace("0x", "").replace(",", ""), 16)
        iana = r[1].strip("`")
        ossl = iana if r[2] == "(same)" else r[2].strip("`")
        ossl = "None" if ossl == "-" else f'Some("{ossl}")'
        if r[3] == "—":
            v21, src = LEVEL[r[4]], "Inl110Rules"
        else:
            v21, src = LEVEL[r[3].replace(" (fn52)", "")], "AppendixC"
        v25 = LEVEL[r[6].strip("*")]
        print(f'    SuiteEntry {{ suite: CipherSuite(0x{code:04X}), iana: "{iana}", openssl: {ossl}, '
              f"v2_1: Level::{v21}, v2_1_source: V21Source::{src}, v2025_05: Level::{v25} }},")
    print("];")


main()
