"""Lists: the powers-and-duties overlay and a neighbouring province's list (supervision coverage),
and the entity relations (shareholders, legal representatives)."""
from __future__ import annotations

from .projects import Scenarios
from .world import LIST_VERSION, Org, PARTNER, PARTNER_FILE, PARTNER_ISSUED, PROVINCE, REFERENCE_FILE, _BRANDS, _short


class Lists(Scenarios):
    # ---- the overlay list with planted list problems
    def overlay(self) -> list[list[str]]:
        km = "530100"
        transport = self.ref.supervising("works", "transport", km)
        water = self.ref.supervising("works", "water", km)
        centre = self.ref.of_type("trading-centre", PROVINCE)
        finance = self.ref.supervising("government-procurement", "", "530400")
        r = self.ref.row(transport.code, "行政处罚", "works")
        c = self.ref.row(self.prov("works", "housing-municipal").code, "行政处罚", "works")
        rows = [
            [transport.code, transport.name, "supervision", "YN-530100-JT-CF-SL", "对水运枢纽及水利配套工程招标投标活动中违法行为的行政处罚",
             "行政处罚", "works", "water", "全过程", km, r["实施依据"], r["责任事项"], r["追责情形"], "否"],
            [centre.code, centre.name, "trading-centre", "YN-530000-JY-CF", "对进场交易主体违反场所管理规定行为的处罚",
             "行政处罚", "works", "housing-municipal", "开标;评标", PROVINCE, c["实施依据"], c["责任事项"], c["追责情形"], ""],
            [finance.code, finance.name, "supervision", "YN-530400-CZ-QR", "政府采购合同备案", "行政确认",
             "government-procurement", "", "合同", "530400", "《中华人民共和国政府采购法》第四十七条", "",
             "因不履行或不正确履行行政职责，对符合条件的合同不予备案或拖延备案的，依法追究相应责任。", ""],
        ]
        # Rows issued with the reference list (its publisher, issue date and validity), so that they are
        # in force together with it: an overlap with a list not yet in force would be none.
        version = [self.ref.rows[0][k] for k in LIST_VERSION]
        rows = [row + version for row in rows]
        self.plant("SUP-OVERLAP", "powers-demo-overlay.csv#1", f"{transport.name} holds 行政处罚 over water works in "
                   f"{km}, which {water.name} holds too; no lead named", [f"{REFERENCE_FILE}"])
        self.plant("SUP-SEPARATION", "powers-demo-overlay.csv#2", f"{centre.name} (trading centre) holds 行政处罚")
        self.plant("SUP-LIST-INCOMPLETE", "powers-demo-overlay.csv#3", "row without 责任事项 (duties)")
        return rows


    # ---- a neighbouring province's list, received for cross-province remote evaluation
    def partner_list(self) -> list[list[str]]:
        """贵州省's province-level supervision powers as its list stood before its 医疗保障局 (set up in the
        2018 reform) added the powers over drug and medical consumables procurement: the same duties as
        the reference province's departments, so every matter but that one is covered (SUP-GAP)."""
        rows = []
        codes_: dict[str, str] = {}
        for r in self.ref.rows:
            if r["区划"] != PROVINCE or r["部门类型"] != "supervision" or "drug-procurement" in r["交易类型"].split(";"):
                continue
            if r["部门编码"] not in codes_:
                codes_[r["部门编码"]] = self._code("11", PARTNER)
            rows.append([codes_[r["部门编码"]], r["部门名称"].replace("云南省", "贵州省"), "supervision",
                         r["权力编码"].replace(f"YN-{PROVINCE}", f"GZ-{PARTNER}"), r["权力名称"], r["权力类型"],
                         r["交易类型"], r["行业"], r["环节"], PARTNER, r["实施依据"], r["责任事项"], r["追责情形"], ""])
        # Published by the counterpart of the reference list's publisher, in force from its issue date.
        publisher = codes_[self.ref.rows[0]["发布机关"]]
        rows = [row + [publisher, PARTNER_ISSUED, "", ""] for row in rows]
        self.plant("SUP-GAP", "+".join(sorted([PARTNER_FILE, "powers-demo-overlay.csv", REFERENCE_FILE])),
                   f"贵州省 ({PARTNER}): no department holds a power over drug-procurement at any stage "
                   "(the list predates the 医疗保障局's powers)", [PARTNER_FILE])
        return rows

    # ---- entity relations: related-company groups among the bidders (BID-RELATED-BIDDERS)
    def relations(self) -> list[list[str]]:
        """Register extracts for bidders of ordinary works tenders: control chains of 1-3 holding levels,
        a shared legal representative, and the relations art. 34 does not reach (a minority holding,
        a holding that ended before the bids, sister companies). Runs after everything else has drawn
        from the generator's random stream, so the rest of the demo stays as it was."""
        rng = self.rng
        taken = {p.record for p in self.planted} | {r for p in self.planted for r in p.related}
        ordinary = [p for p in sorted(self.projects, key=lambda p: p.ocid)
                    if p.trade == "works" and p.awarded and len({b.tenderer.code for b in p.bids}) >= 3
                    and p.ocid not in taken and not p.remote]
        chosen = rng.sample(ordinary, 6)
        since = lambda: f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"  # noqa: E731
        holdings = []

        def holding(region: str) -> Org:
            while True:
                name = f"{_short(self.names[region[:4] + '00'])}{rng.choice(_BRANDS)}投资控股有限公司"
                if name not in self.used_names:
                    self.used_names.add(name)
                    break
            org = Org(self._code("91", region), name)
            holdings.append(org)
            return org

        def person() -> str:
            return "p:" + self._hex()

        rows: list[list[str]] = []
        pairs = []
        for p in chosen:
            a, b = rng.sample(sorted({bid.tenderer.code: bid.tenderer for bid in p.bids}.values(),
                                     key=lambda o: o.code), 2)
            pairs.append((p, a, b))
        # 1. two levels: b holds 80% of h1, which holds 55% of a.
        p, a, b = pairs[0]
        h1 = holding(a.code[2:8])
        rows += [[h1.code, "企业", b.code, "shareholder", "80", since(), ""],
                 [a.code, "企业", h1.code, "shareholder", "55", since(), ""]]
        self.plant("BID-RELATED-BIDDERS", p, f"{b.name} controls {a.name} through {h1.name} (80% -> 55%)")
        # 2. three levels: a holds 100% of h2, h2 51% of h3, h3 65% of b.
        p, a, b = pairs[1]
        h2, h3 = holding(a.code[2:8]), holding(b.code[2:8])
        rows += [[h2.code, "企业", a.code, "shareholder", "100", since(), ""],
                 [h3.code, "企业", h2.code, "shareholder", "51", since(), ""],
                 [b.code, "企业", h3.code, "shareholder", "65", since(), ""]]
        self.plant("BID-RELATED-BIDDERS", p, f"{a.name} controls {b.name} through 3 holding levels (100% -> 51% -> 65%)")
        # 3. one legal representative for two bidders.
        p, a, b = pairs[2]
        rep = person()
        rows += [[a.code, "个人", rep, "legal-representative", "", since(), ""],
                 [b.code, "个人", rep, "legal-representative", "", since(), ""]]
        self.plant("BID-RELATED-BIDDERS", p, f"{a.name} and {b.name} have the same legal representative")
        # Not related under art. 34: a 40% holding; a holding that ended before the bids; sisters.
        p, a, b = pairs[3]
        rows.append([a.code, "企业", b.code, "shareholder", "40", since(), ""])
        p, a, b = pairs[4]
        rows.append([a.code, "企业", b.code, "shareholder", "90", "2019-03-01", "2025-06-30"])
        p, a, b = pairs[5]
        parent = holding(a.code[2:8])
        rows += [[a.code, "企业", parent.code, "shareholder", "100", since(), ""],
                 [b.code, "企业", parent.code, "shareholder", "100", since(), ""]]
        # Everyone named above has a legal representative of their own on the register.
        named = sorted({r[0] for r in rows} | {r[2] for r in rows if r[1] == "企业"})
        reps = {r[0] for r in rows if r[3] == "legal-representative"}
        rows += [[c, "个人", person(), "legal-representative", "", since(), ""] for c in named if c not in reps]
        self.holdings = holdings
        return rows
