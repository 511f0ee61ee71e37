"""Classic open-source licence language, tagged by the rules of ../shared/gold/README.md.

Each document below is a short licence written for this test in the manner of one family (MIT, ISC,
BSD, zlib, WTFPL, Unlicense, CC0, MPL, LGPL, GPL/AGPL, EPL, Apache-style notices, Creative Commons,
Boost, Python): paraphrased and shortened, never a copy of a real licence file. The whole pipeline
(segmentation, tagging) runs on it; the test checks the document's tag set (the union of its clauses'
tags, as the scorer's document level does) and a few clauses on their own. Commercial use is only
granted where the words cover it (sell, "for any purpose", "without restriction", commercial use).
"""
from __future__ import annotations

import textwrap

import pytest

from clausewatch.nlp import analyse

USE, MOD, DIST, COMM, PAT = "grant.use", "grant.modify", "grant.distribute", "grant.commercial", "grant.patent"
ATTR, STATE, SHARE, SOURCE = ("obligation.attribution", "obligation.state_changes", "obligation.share_alike",
                              "obligation.disclose_source")
WARR, LIAB, TERM, TM, LAW, INDEM = ("terms.warranty_disclaimer", "terms.liability_limit", "terms.termination",
                                    "terms.trademark", "terms.governing_law", "terms.indemnity")
DEF, NONCOMM = "policy.definition", "restrict.noncommercial"


def doc(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


FAMILIES = {
    "mit": (doc("""
        Copyright (c) 2031 Example Makers

        Permission is hereby granted, at no cost, to anyone who gets a copy of this program and the files
        that come with it, to deal in the program without restriction, including the rights to use, copy,
        change, merge, publish, distribute, sublicense and sell copies of it, and to let the people who
        receive it do likewise, on this condition:

        The copyright notice above and this permission text must be included in every copy or substantial
        part of the program.

        THE PROGRAM COMES "AS IS": NO WARRANTY, EXPRESS OR IMPLIED, IS GIVEN. IN NO EVENT WILL THE
        AUTHORS OR RIGHT HOLDERS BE LIABLE FOR ANY CLAIM OR DAMAGES ARISING FROM THE PROGRAM.
    """), {USE, MOD, DIST, COMM, ATTR, WARR, LIAB}),
    "isc": (doc("""
        Copyright 2030 A. Writer

        Permission to use, copy, modify, and/or distribute this program for any purpose, with or without a fee,
        is hereby granted, as long as the copyright notice above and this permission notice appear in all copies.

        THE PROGRAM IS PROVIDED "AS IS" AND THE WRITER DISCLAIMS ALL WARRANTIES WITH REGARD TO IT. IN NO EVENT
        SHALL THE WRITER BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT OR CONSEQUENTIAL DAMAGES.
    """), {USE, MOD, DIST, COMM, ATTR, WARR, LIAB}),
    "bsd-3": (doc("""
        Copyright (c) 2029, The Example Group. All rights reserved.

        Redistribution and use of this code in source and compiled forms, with or without modification, are
        permitted if the following conditions are met:

        1. Redistributions of source code must keep the copyright notice above, this list of conditions and
        the disclaimer below.

        2. Redistributions in compiled form must reproduce the copyright notice above, this list of conditions
        and the disclaimer below in the documentation or other materials shipped with the distribution.

        3. Neither the name of the group nor the names of its members may be used to endorse or promote
        products derived from this code without specific prior written permission.

        THIS CODE IS PROVIDED BY THE GROUP "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES ARE DISCLAIMED. IN NO
        EVENT SHALL THE GROUP BE LIABLE FOR ANY DIRECT, INDIRECT OR CONSEQUENTIAL DAMAGES.
    """), {USE, DIST, ATTR, TM, WARR, LIAB}),
    "bsd-4-advertising": (doc("""
        Redistribution and use in source and binary forms are permitted provided that the conditions below are
        met:

        1. Redistributions of source code must keep the copyright notice above.

        2. All advertising materials that mention features or use of this code must display this
        acknowledgement: "This product includes code written by the Example Lab."

        THIS CODE IS PROVIDED AS IS, WITHOUT ANY WARRANTY.
    """), {USE, DIST, ATTR, WARR}),
    "zlib": (doc("""
        This library is provided 'as-is', with no express or implied warranty. In no event will the
        authors be held liable for any damages arising from its use.

        Permission is granted to anyone to use this library for any purpose, including commercial
        applications, and to alter it and redistribute it freely, subject to these restrictions:

        1. You must not misrepresent where this library came from; you must not claim that you wrote the
        original. An acknowledgment in your product documentation would be welcome but is not required.

        2. Altered source versions must be plainly marked as such and must not be passed off as the original.

        3. This notice may not be removed or altered from any source distribution.
    """), {USE, MOD, DIST, COMM, STATE, ATTR, WARR, LIAB}),
    "wtfpl": (doc("""
        DO WHAT YOU LIKE PUBLIC LICENSE, Version 3

        Everyone is permitted to copy and distribute verbatim or modified copies of this license document, and
        changing it is allowed as long as the name is changed.

        0. You may do whatever you want with the work.
    """), {USE, MOD, DIST, COMM}),
    "unlicense": (doc("""
        This is free and unencumbered code released into the public domain.

        Anyone is free to copy, modify, publish, use, compile, sell or distribute this code, in source or
        compiled form, for any purpose, commercial or non-commercial, and by any means.

        Where copyright law applies, the authors dedicate all their copyright interest in this code to the
        public domain, for the benefit of the public at large.

        THE CODE COMES "AS IS" AND WITHOUT ANY WARRANTY. IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR
        ANY CLAIM, DAMAGES OR OTHER LIABILITY.
    """), {USE, MOD, DIST, COMM, WARR, LIAB}),
    "cc0": (doc("""
        Statement of Purpose. The person who associates a work with this deed wants the public to be able to
        build on it freely.

        1. Waiver. To the greatest extent the law allows, the Affirmer hereby waives and surrenders all of the
        Affirmer's copyright and neighbouring rights in the Work.

        2. Fallback licence. If any part of the waiver is held invalid, the Affirmer hereby grants each affected
        person a royalty-free, non-exclusive, irrevocable licence to exercise the Affirmer's copyright and
        neighbouring rights in the Work for any purpose whatsoever, including commercial purposes.

        3. Limitations.

        a. No trademark or patent rights held by the Affirmer are waived or licensed by this deed.

        b. The Affirmer offers the Work as-is and makes no representations or warranties of any kind about it.
    """), {USE, MOD, DIST, COMM, TM, WARR}),
    "mpl": (doc("""
        1. Definitions

        1.1. "Contributor" means each person or entity that creates or contributes to Covered Software.

        2. Licence Grants

        2.1. Grants. Each Contributor hereby grants You a worldwide, royalty-free, non-exclusive licence:

        (a) under intellectual property rights (other than patent or trademark) that it controls, to use,
        reproduce, make available, modify, display, perform, distribute and otherwise exploit its Contributions;
        and

        (b) under Patent Claims of that Contributor to make, use, sell, offer for sale, have made, import and
        otherwise transfer its Contributions.

        2.3. This Licence does not grant any rights in the trademarks, service marks or logos of any Contributor.

        3. Responsibilities

        3.1. All distribution of Covered Software in Source Code Form, including any Modifications You create,
        must be under the terms of this License.

        3.2. If You distribute Covered Software in Executable Form, it must also be made available in Source
        Code Form, and You must tell recipients how they can get a copy of it.

        3.3. You may not remove or alter the substance of any licence notices (including copyright notices)
        contained within the Source Code Form.

        5. Termination. The rights granted under this Licence will terminate automatically if You fail to
        comply with any of its terms.

        6. Covered Software comes "as is", with no warranty whatsoever.

        7. Under no circumstances shall any Contributor be liable to any person for any indirect, special or
        consequential damages.

        8. Any litigation relating to this Licence may be brought only in the courts of a jurisdiction where the
        defendant has its principal place of business, and it will be decided under the law of that
        jurisdiction.

        10. New Versions. The licence steward is the only one who may publish new versions of this Licence.
    """), {DEF, USE, MOD, DIST, COMM, PAT, TM, SHARE, SOURCE, ATTR, TERM, WARR, LIAB, LAW}),
    "gpl-agpl": (doc("""
        0. Definitions.

        "This License" refers to version 3 of the Example Public License.

        To "convey" a work means any kind of propagation that lets other parties make or receive copies.

        2. Basic Permissions. You may make, run and propagate covered works that you do not convey, without
        conditions, as long as your licence otherwise remains in force.

        4. Passing On Exact Copies. You may convey exact copies of the Program's source code as you received
        it, in any medium, as long as you keep every notice saying that this License applies to the code
        intact, and you hand every recipient a copy of this License along with the Program. You may charge any
        price or no price for each copy that you convey.

        5. Conveying Changed Versions. You may convey a work based on the Program in the form of source code,
        as long as you also meet all of these conditions:

        a) The work must carry prominent notices saying that you modified it, with a relevant date.

        b) You must license the entire work, as a whole, under this License to anyone who obtains a copy.

        6. Object Code. You may convey a covered work in object code form, as long as you also convey the
        machine-readable Corresponding Source under the terms of this License.

        8. Termination. You may not propagate or modify a covered work except as this License provides; any
        other attempt is void and will automatically end your rights under it.

        11. Patents. Each contributor grants you a non-exclusive, worldwide, royalty-free patent license under
        its essential patent claims, to make, use, sell, offer for sale, import and otherwise run, modify and
        propagate the contents of its contributor version.

        13. Network Use. If you modify the Program, your modified version must give all users interacting with
        it remotely through a network an opportunity to receive the Corresponding Source of your version.

        14. Revised Versions. The Foundation may publish revised and new versions of this License from time to
        time; they will be similar in spirit to this version.

        15. There is no warranty for the Program, to the extent permitted by applicable law.

        16. In no event unless required by applicable law will any copyright holder owe you damages or be
        liable for them.
    """), {DEF, USE, MOD, DIST, COMM, PAT, ATTR, STATE, SHARE, SOURCE, TERM, WARR, LIAB}),
    "lgpl": (doc("""
        2. You may modify your copy of the Library or any part of it, and copy and distribute such
        modifications under the terms of Section 1, as long as you also meet all of these conditions:

        a) The modified work must itself be a software library.

        b) You must cause the files you modified to carry prominent notices saying that you changed the files
        and the date of any change.

        c) You must cause the whole of the work to be licensed at no charge to all third parties under the
        terms of this License.

        6. As an exception, you may combine a work that uses the Library with the Library to produce a work
        containing portions of the Library, and distribute that work under terms of your choice, provided
        that you accompany the work with the complete corresponding machine-readable source code for the
        Library.

        11. THERE IS NO WARRANTY FOR THE LIBRARY.
    """), {USE, MOD, DIST, STATE, SHARE, SOURCE, WARR}),
    "epl": (doc("""
        1. DEFINITIONS

        "Contribution" means the initial code and documentation distributed under this Agreement.

        2. GRANT OF RIGHTS

        a) Subject to the terms of this Agreement, each Contributor hereby grants Recipient a non-exclusive,
        worldwide, royalty-free copyright license to copy, publicly show, adapt, distribute and sublicense the
        Contribution of such Contributor.

        b) Subject to the terms of this Agreement, each Contributor hereby grants Recipient a non-exclusive,
        worldwide, royalty-free patent license under Licensed Patents to make, use, sell, offer to sell and
        import the Contribution.

        3. REQUIREMENTS

        If a Contributor distributes the Program in any form, the Program must also be made available as
        Source Code, and it must be made available under this Agreement.

        4. COMMERCIAL DISTRIBUTION

        A Commercial Contributor agrees to defend and indemnify every other Contributor against any losses
        arising from claims brought by a third party.

        5. NO WARRANTY. THE PROGRAM COMES "AS IS", WITH NO WARRANTIES OR CONDITIONS.

        7. GENERAL. All Recipient's rights under this Agreement shall terminate if it fails to comply with any
        of its material terms. The Agreement Steward reserves the right to publish new versions of this
        Agreement from time to time. New York law governs this Agreement.
    """), {DEF, USE, MOD, DIST, COMM, PAT, SOURCE, SHARE, INDEM, WARR, TERM, LAW}),
    "cc-by-sa": (doc("""
        Section 2 - Scope.

        a. Licence grant.

        1. Under this Public License, the Licensor grants You a worldwide, royalty-free, non-exclusive,
        irrevocable licence to exercise the Licensed Rights in the Licensed Material to:

        A. reproduce and Share the Licensed Material, in whole or in part; and

        B. produce, reproduce, and Share Adapted Material.

        Section 3 - Licence Conditions.

        a. Attribution. If You Share the Licensed Material, You must keep any copyright notice supplied with it,
        indicate whether You changed the Licensed Material, and include the text of, or a link to, this Public
        License.

        b. ShareAlike. If You Share Adapted Material You make, the Adapter's License You apply must be a licence
        with the same License Elements, this version or later.

        Section 5 - Disclaimer. The Licensor offers the Licensed Material as-is and makes no representations or
        warranties of any kind. In no event will the Licensor be liable to You on any legal theory for any
        losses.

        Section 6 - Term. If You fail to comply with this Public License, Your rights under it terminate
        automatically. Trademark and patent rights are not licensed under this Public License.
    """), {USE, MOD, DIST, ATTR, STATE, SHARE, WARR, LIAB, TERM, TM}),
    "cc-by-nc": (doc("""
        The Licensor grants You a worldwide, royalty-free, non-exclusive licence to exercise the Licensed Rights
        in the Licensed Material to:

        A. reproduce and Share the Licensed Material, in whole or in part, for NonCommercial purposes only; and

        B. produce, reproduce, and Share Adapted Material for NonCommercial purposes only.

        You must give appropriate credit when You Share the Licensed Material.
    """), {USE, MOD, DIST, NONCOMM, ATTR}),
    "boost": (doc("""
        Permission is hereby granted, at no cost, to any person or organisation that obtains a copy of the
        software covered by this licence to use, reproduce, display, distribute, execute and transmit the
        software, and to prepare derivative works of it, subject to the following:

        The copyright notices in the software and this entire statement must be included in all copies of the
        software, in whole or in part.

        THE SOFTWARE COMES AS IS, WITH NO WARRANTY. IN NO EVENT SHALL THE COPYRIGHT HOLDERS BE
        LIABLE FOR ANY DAMAGES.
    """), {USE, MOD, DIST, ATTR, WARR, LIAB}),
    "python-style": (doc("""
        1. This Agreement is between the Foundation and the person or organisation ("Licensee") using the
        software.

        2. Subject to this Agreement, the Foundation hereby grants Licensee a non-exclusive, royalty-free,
        worldwide licence to reproduce, analyse, test, perform or display publicly, prepare derivative works,
        distribute, and otherwise use the software alone or in any derived version, provided that the
        Foundation's notice of copyright is kept in the software alone or in any derived version.

        3. If Licensee prepares a derived work, Licensee agrees to include in it a brief summary of the changes
        made to the software.

        4. This Agreement will end automatically upon a material breach of its terms.

        5. This Agreement shall be governed by the law of the Commonwealth of Virginia.

        6. This Agreement gives no permission to use the Foundation's trademarks or trade name to endorse or
        promote products of Licensee.
    """), {USE, MOD, DIST, ATTR, STATE, LAW, TM}),
}


def tags_by_clause(text: str) -> list[tuple[str, set[str]]]:
    return [(c.text, set(c.tag_ids)) for c in analyse(text)]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_document_tags_of_classic_licence_families(family):
    text, expected = FAMILIES[family]
    got = set().union(*(tags for _text, tags in tags_by_clause(text)))
    assert got == expected, f"missing {sorted(expected - got)}, extra {sorted(got - expected)}"


def clause_tags(family: str, start: str) -> set[str]:
    for text, tags in tags_by_clause(FAMILIES[family][0]):
        if text.startswith(start) or start in text[:80]:
            return tags
    raise AssertionError(f"no clause starting {start!r} in {family}")


@pytest.mark.parametrize("family,start,expected", [
    ("bsd-3", "Redistribution and use", {USE, DIST}),                    # "with or without modification"
    ("isc", "Permission to use", {USE, MOD, DIST, COMM, ATTR}),     # the notice condition is in the grant
    ("zlib", "Permission is granted", {USE, MOD, DIST, COMM}),
    ("zlib", "You must not misrepresent", set()),
    ("wtfpl", "Everyone is permitted", set()),                          # the licence's own text
    ("unlicense", "This is free and unencumbered", set()),
    ("mpl", "under intellectual", {USE, MOD, DIST}),
    ("mpl", "under Patent Claims", {PAT, COMM}),
    ("mpl", "New Versions.", set()),                                   # a steward's new versions
    ("gpl-agpl", "Revised Versions.", set()),
    ("gpl-agpl", "Patents. Each contributor", {PAT, COMM}),
    ("gpl-agpl", "Object Code.", {DIST, SOURCE}),
    ("epl", "A Commercial Contributor agrees", {INDEM}),
])
def test_clauses_of_classic_licences(family, start, expected):
    assert clause_tags(family, start) == expected
