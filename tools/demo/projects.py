"""Projects: the planted problems at each boundary with their compliant neighbours, the fill of
ordinary projects around them, and each project as the OCDS releases the demo writes."""
from __future__ import annotations

import datetime as dt

from prtkg.catalogue import rule as catalogue_rule
from prtkg.workdays import Calendar

from .world import Generator, Org, Project, URL, _d, _dt, _money, _party, _ref


class Scenarios(Generator):
    """The planted problems and their compliant neighbours at each boundary."""

    def works(self, **kw) -> Project:
        p = self.new_project("works", **kw)
        p.category, p.method, p.method_details = "works", "open", "公开招标"
        p.budget = max(p.budget, 4.5e6)
        p.amendment_before = []
        p.remote, p.secondary, p.supervisors = False, [], [(p.supervisor, "primary")]
        self._make_bids(p, 5)
        return p

    def gp(self, **kw) -> Project:
        p = self.new_project("government-procurement", **kw)
        p.method, p.method_details, p.period, p.amendment_before = "open", "公开招标", max(p.period, 20), []
        p.remote, p.secondary, p.supervisors = False, [], [(p.supervisor, "primary")]
        return p

    # ---- credit subjects come first: restricted entities stay out of ordinary bidding
    def credit_subjects(self) -> None:
        rng = self.rng
        take = lambda pool: rng.choice([o for o in self.pools[pool] if o.code not in self.excluded])  # noqa: E731
        self.restricted: dict[str, Org] = {}
        for key, pool in (("R1", "housing-municipal"), ("R2", "housing-municipal"), ("R3", "government-procurement"),
                          ("R4", "housing-municipal"), ("R5", "housing-municipal"), ("R6", "land-use-right"),
                          ("R7", "drug-procurement"), ("R8", "state-assets"), ("R9", "government-procurement")):
            org = take(pool)
            self.excluded.add(org.code)
            self.restricted[key] = org

    def plant_projects(self) -> None:
        rng, R = self.rng, self.restricted
        # BID-PERIOD-20D at its boundary: 19 days fails, 20 and 21 comply.
        for days in (19, 20, 21):
            p = self.works()
            p.period = days
            self.finish(p)
            if days == 19:
                self.plant("BID-PERIOD-20D", p, "19 days from tender documents to the bid deadline "
                           "(two other works projects have 20 and 21 days and comply)")
        # BID-CLARIFY-15D: a clarification 14 days before the deadline; 15 complies.
        for before in (14, 15):
            p = self.works()
            p.amendment_before = [before]
            self.finish(p)
            if before == 14:
                self.plant("BID-CLARIFY-15D", p, "clarification issued 14 days before the bid deadline")
        # BID-MIN-3-BIDDERS: an award on 2 bids; two other 2-bid tenders were declared unsuccessful.
        for awarded in (True, False, False):
            p = self.works()
            self._make_bids(p, 2)
            if not awarded:
                p.awarded, p.winner, p.status = False, None, "unsuccessful"
            self.finish(p)
            if awarded:
                self.plant("BID-MIN-3-BIDDERS", p, "award made although only 2 bids were received")
        # BID-CANDIDATE-PUBLICITY-3D: publicity starting 4 days after the report; publicity of 2 days.
        p = self.works()
        p.to_publicity = 4
        self.finish(p)
        self.plant("BID-CANDIDATE-PUBLICITY-3D", p, "candidates published 4 days after the evaluation report")
        p = self.works()
        p.publicity_days = 2
        self.finish(p)
        self.plant("BID-CANDIDATE-PUBLICITY-3D", p, "candidate publicity lasted only 2 days before the award")
        # BID-CONTRACT-30D: 34 days; exactly 30 complies.
        for days in (34, 30):
            p = self.works()
            p.to_contract = days
            self.finish(p)
            if days == 34:
                self.plant("BID-CONTRACT-30D", p, "contract signed 34 days after the award")
        # BID-MUST-TENDER: construction of 5.6M and design services of 1.35M procured directly;
        # construction of 3.6M procured directly complies (below the threshold).
        for category, budget, bad in (("works", 5.6e6, True), ("services", 1.35e6, True), ("works", 3.6e6, False)):
            p = self.works()
            p.category, p.budget = category, budget
            if category == "services":
                p.title = p.title.replace("工程施工", "工程勘察设计").replace("施工", "设计")
            self._direct(p)
            self.finish(p)
            if bad:
                self.plant("BID-MUST-TENDER", p, f"{category} contract of {budget:,.0f} CNY procured directly "
                           "although at or above the must-tender threshold")
        # REM-RESPONSIBILITY: remote evaluations naming no host-venue supervisor / no primary supervisor.
        p = self.works()
        self._make_remote(p)
        p.secondary = [(p.secondary[0][0], None)]
        p.supervisors = [(p.supervisor, "primary")]
        self.finish(p)
        self.plant("REM-RESPONSIBILITY", p, "remote evaluation: the secondary (host) venue names no supervisor")
        p = self.gp()
        self._make_remote(p)
        p.primary_venue_supervisor = False
        self.finish(p)
        self.plant("REM-RESPONSIBILITY", p, "remote evaluation: the primary venue names no supervisor")
        # SUP-PROJECT-UNSUPERVISED: a water project supervised by the housing department.
        p = self.works(industry="water")
        wrong = self.ref.supervising("works", "housing-municipal", p.prefecture)
        p.supervisor, p.supervisors = wrong, [(wrong, "primary")]
        self.finish(p)
        self.plant("SUP-PROJECT-UNSUPERVISED", p, f"water works supervised by {wrong.name}, "
                   "which holds no power over water works")
        # CRD-RESTRICTED-BID / -AWARD and their boundaries (restriction expired; decided after the bid).
        for key, day, wins, rule in (("R1", dt.date(2026, 4, 20), False, "CRD-RESTRICTED-BID"),
                                     ("R2", dt.date(2026, 5, 18), True, "CRD-RESTRICTED-AWARD"),
                                     ("R4", dt.date(2026, 6, 15), False, None),
                                     ("R5", dt.date(2026, 3, 16), False, None)):
            p = self.works(industry="housing-municipal")
            org = R[key]
            self._make_bids(p, 5, fixed=[org], winner=org if wins else None)
            if not wins and p.bids[p.winner].tenderer is org:
                p.winner = 1
            self.anchor(p, "end", day)
            self.finish(p)
            if rule:
                self.plant(rule, p, f"{org.name} ({org.code}) {'won' if wins else 'bid'} while barred from works bidding")
            if wins:
                self.plant("CRD-RESTRICTED-BID", p, f"{org.name} ({org.code}) bid while barred from works bidding")
        p = self.gp()
        self._make_bids(p, 4, fixed=[R["R3"]])
        if p.bids[p.winner].tenderer is R["R3"]:
            p.winner = 1
        self.finish(p)
        self.plant("CRD-RESTRICTED-BID", p, f"{R['R3'].name} bid in government procurement while banned")
        # RISK-SINGLE-BIDDER: open procurement with one bid.
        for _ in range(2):
            p = self.gp()
            self._make_bids(p, 1)
            self.finish(p)
            self.plant("RISK-SINGLE-BIDDER", p, "open procedure with a single bid")
        # RISK-IDENTICAL-BIDS
        p = self.works()
        others = [i for i in range(len(p.bids)) if i != p.winner]
        p.bids[others[1]].amount = p.bids[others[0]].amount
        self.finish(p)
        self.plant("RISK-IDENTICAL-BIDS", p, "two different tenderers bid the identical amount")
        # BID-COLLUSION-PRESUMED: same agent; same deposit account; prices with equal gaps.
        p = self.works()
        p.bids[others[0]].agent = p.bids[others[1]].agent
        self.finish(p)
        self.plant("BID-COLLUSION-PRESUMED", p, "two bids handled by the same agent (cn.agent)")
        p = self.works()
        p.bids[0].account = p.bids[2].account
        self.finish(p)
        self.plant("BID-COLLUSION-PRESUMED", p, "two bids' deposits paid from the same account (cn.depositAccount)")
        p = self.works()
        p.criteria = "priceOnly"
        self._make_bids(p, 4)
        base, gap = round(p.budget * 0.9, 2), round(p.budget * 0.012, 2)
        for k, b in enumerate(p.bids):
            b.amount = round(base + k * gap, 2)
        p.winner = 0
        self.finish(p)
        self.plant("BID-COLLUSION-PRESUMED", p, "four bid prices in a regular pattern (all gaps equal)")
        # Cardinal red flags.
        p = self.works()
        self.finish(p)
        win = p.bids[p.winner]
        win.day, win.time = p.dates(self.cal)["end"], "10:15:00"
        self.plant("RISK-LATE-WINNING-BID", p, "the winning bid was received 45 minutes after the deadline")
        p = self.works()
        for i, b in enumerate(p.bids):
            if i != p.winner:
                b.status = "disqualified"
        self.finish(p)
        self.plant("RISK-ALL-BUT-WINNER-DISQUALIFIED", p, "every bid but the winner's was disqualified")
        p = self.gp()
        p.criteria = "priceOnly"
        self._make_bids(p, 5)
        ranked = sorted(range(5), key=lambda i: p.bids[i].amount)
        p.bids[ranked[0]].status, p.winner = "disqualified", ranked[1]
        self.finish(p)
        self.plant("RISK-LOWEST-DISQUALIFIED", p, "price-only award; the lowest bid was disqualified")
        p = self.new_project("land-use-right")
        p.period = 12
        self.finish(p)
        self.plant("RISK-SHORT-PERIOD", p, "land-use right listed for only 12 days")
        # Disclosure.
        p = self.works()
        p.tender_notice_shift = None
        self.finish(p)
        self.plant("DIS-TENDER-NOTICE", p, "open tender without a tender notice")
        p = self.gp()
        p.tender_notice_shift = 2
        self.finish(p)
        self.plant("DIS-TENDER-NOTICE", p, "tender notice published 2 days after the tender documents were issued")
        p = self.works()
        p.award_notice_wd = None
        self.finish(p)
        self.plant("DIS-RESULT-NOTICE", p, "active award without a result notice")
        p = self.gp()
        p.contract_pub_wd = None
        self.finish(p)
        self.plant("DIS-CONTRACT", p, "signed procurement contract never published")
        # Government procurement deadlines, across the Spring Festival and National Day holidays.
        p = self.gp()
        p.period = 19
        self.finish(p)
        self.plant("GP-PERIOD-20D", p, "open procurement with 19 days from documents to deadline")
        for award, wd, bad in ((dt.date(2026, 2, 12), 3, True), (dt.date(2026, 2, 13), 2, False),
                               (dt.date(2026, 9, 29), 3, True), (dt.date(2026, 9, 30), 2, False)):
            p = self.gp()
            p.to_start, p.period, p.to_report, p.to_award, p.award_notice_wd = 7, 22, 1, 2, wd
            self.anchor(p, "award", award)
            self.finish(p)
            if bad:
                notice = p.dates(self.cal)["award_notice"]
                self.plant("GP-RESULT-2WD", p, f"supplier determined {award}, result notice {notice}: "
                           "3 working days across the holiday (a neighbour one day later complies)")
        p = self.gp()
        p.to_contract = 33
        # Day 30 after the award must be a working day, or 民法典 art. 203 would move the deadline.
        self.anchor(p, "award", dt.date(2026, 6, 10))
        p.amendment_before = [14]
        self.finish(p)
        self.plant("GP-CONTRACT-30D", p, "procurement contract signed 33 days after the award of 2026-06-10 "
                   "(day 30, Fri 2026-07-10, is a working day)")
        self.plant("GP-CLARIFY-15D", p, "clarification issued 14 days before the bid deadline")
        for wd in (3, 2):
            p = self.gp()
            p.to_start, p.period, p.to_report, p.to_award, p.to_contract, p.contract_pub_wd = 10, 25, 1, 3, 10, wd
            self.anchor(p, "signed", dt.date(2026, 4, 30))
            self.finish(p)
            if wd == 3:
                self.plant("GP-CONTRACT-PUB-2WD", p, "contract signed 2026-04-30, published 2026-05-08: "
                           "3 working days across the May Day holiday")
        p = self.gp()
        p.criteria = "ratedCriteria"
        p.bids[p.winner].amount = round(p.budget * 1.04, 2)
        self.finish(p)
        self.plant("GP-OVER-BUDGET", p, "award 4% above the budget")
        # Plain OCDS without our extension: rules needing it report DATA-INSUFFICIENT.
        for trade in ("works", "government-procurement", "works", "government-procurement", "works"):
            p = self.new_project(trade)
            p.extension, p.remote, p.secondary, p.supervisors = False, False, [], [(p.supervisor, "primary")]
            self.finish(p)
            self.plant("DATA-INSUFFICIENT", p, "OCDS release without tradeType, regionCode or supervisors")
        # CRD-CODE-INVALID: a tenderer whose credit code has a wrong check character.
        for org in self.invalid:
            p = self.works(industry="housing-municipal")
            self._make_bids(p, 5, fixed=[org])
            if p.bids[p.winner].tenderer is org:
                p.winner = 1
            self.finish(p)
            self.plant("CRD-CODE-INVALID", p, f"tenderer {org.name} has credit code {org.code} "
                       "with a wrong check character", [org.code])
        # RISK-SPLIT-CONTRACTS: one buyer, one supplier, two direct works contracts below 4M, 44 days apart.
        pref = self.rng.choice(self.pref_codes)
        buyer = self.buyers[("yuanqu", pref)]
        supplier = self.rng.choice([o for o in self.pools["other"] if o.code not in self.excluded])
        split = []
        for budget, day in ((2.3e6, dt.date(2026, 4, 8)), (2.05e6, dt.date(2026, 5, 22))):
            p = self.works(industry="other", region=pref, buyer=buyer)
            p.budget = budget
            p.title = p.title.replace("工程施工", "零星工程施工")
            self._direct(p, supplier)
            self.anchor(p, "award", day)
            self.finish(p)
            split.append(p.ocid)
        self.plant("RISK-SPLIT-CONTRACTS", split[-1], f"{buyer.name} gave {supplier.name} two direct works "
                   "contracts of 2.30M and 2.05M CNY 44 days apart (together above 4M)", split)
        # RISK-WINNER-CONCENTRATION: one supplier wins 4 of a buyer's 6 awards.
        fresh = [c for c in self.pref_codes if not self.won_from[self.buyers[("jiaotou", c)].code]]
        pref = self.rng.choice(fresh)
        buyer = self.buyers[("jiaotou", pref)]
        star = self.rng.choice([o for o in self.pools["transport"] if o.code not in self.excluded
                                and o.code not in self.won_from[buyer.code]])
        self.reserved.add(buyer.code)  # later projects buy elsewhere, so the share stays as planted
        conc = []
        for k in range(6):
            p = self.works(industry="transport", region=pref, buyer=buyer)
            self._make_bids(p, 5, fixed=[star], winner=star if k < 4 else None)
            if k >= 4:
                p.winner = next(i for i, b in enumerate(p.bids) if b.tenderer is not star)
            self.finish(p)
            conc.append(p.ocid)
        self.plant("RISK-WINNER-CONCENTRATION", star.code, "", conc)
        self.concentration = (self.planted[-1], buyer, star)
        # RISK-BID-ROTATION: the same 4 bidders meet in 4 tenders and each wins once.
        covers = self.cover_codes()
        ring = self.rng.sample([o for o in self.pools["housing-municipal"]
                                if o.code not in self.excluded and o.code not in covers], 4)
        rotation = []
        for k in range(4):
            p = self.works(industry="housing-municipal")
            self._make_bids(p, 4, fixed=ring, winner=ring[k])
            self.finish(p)
            rotation.append(p)
        # The tender that completes the pattern (by its last bid day) carries the finding.
        by_day = sorted(rotation, key=lambda q: (max(b.day for b in q.bids), q.ocid))
        completing = by_day[min(len(by_day), catalogue_rule("RISK-BID-ROTATION").param("min_tenders")) - 1]
        rotation = [q.ocid for q in rotation]
        self.plant("RISK-BID-ROTATION", completing.ocid, "the same 4 bidders met in 4 tenders; the winner rotated: "
                   + "、".join(o.name for o in ring), rotation)
        self.rotation_ring = ring

    def _direct(self, p: Project, supplier: Org | None = None) -> None:
        p.method, p.method_details, p.criteria = "direct", "直接发包", None
        p.bids, p.winner, p.amendment_before, p.tender_notice_shift = [], None, [], None
        p.remote, p.secondary, p.supervisors = False, [], [(p.supervisor, "primary")]
        supplier = supplier or self.rng.choice([o for o in self.pools[self._pool_name(p.trade, p.industry)]
                                                if o.code not in self.excluded
                                                and o.code not in self.won_from[p.buyer.code]])
        p.direct_supplier = supplier
        p.award_value = round(p.budget * 0.97, 2)

    def fill(self) -> None:
        while self.seqs:
            p = self.new_project()
            self.finish(p)


# -- rendering ---------------------------------------------------------------------------------------

    def _describe_concentration(self) -> None:
        """Other projects of the same buyer may come from the fill: count the share once all exist."""
        entry, buyer, star = self.concentration
        awarded = [p for p in self.projects if p.buyer is buyer and p.awarded]
        wins = sum(1 for p in awarded if (p.direct_supplier or p.bids[p.winner].tenderer) is star)
        if wins * 2 <= len(awarded):
            raise RuntimeError(f"planted winner concentration diluted: {wins} of {len(awarded)}")
        entry.note = f"{star.name} won {wins} of {buyer.name}'s {len(awarded)} awards in 2026"
        entry.related = sorted(p.ocid for p in awarded)


def releases(p: Project, cal: Calendar) -> list[dict]:
    d = p.dates(cal)
    ocid = p.ocid
    out: list[dict] = []

    def release(tag: str, day: dt.date, time: str = "09:00:00", **body) -> None:
        rel = {"ocid": ocid, "id": f"{ocid}-{len(out) + 1:02d}-{tag}", "date": _dt(day, time), "tag": [tag],
               "initiationType": "tender", "language": "zh"}
        rel.update(body)
        out.append(rel)

    buyer = _party(p.buyer, ["buyer"])
    release("planning", d["planning"], buyer=_ref(p.buyer), parties=[buyer], planning={
        "rationale": "列入2026年度项目计划", "budget": {"description": "财政资金及自筹资金", "amount": _money(p.budget)}})

    tender: dict = {"id": f"{ocid}-tender", "title": p.title, "status": "active",
                    "procurementMethod": p.method, "procurementMethodDetails": p.method_details}
    if p.category:
        tender["mainProcurementCategory"] = p.category
    if p.criteria and p.method != "direct":
        tender["awardCriteria"] = p.criteria
    tender["value"] = _money(p.budget)
    if d["end"] is not None:
        tender["tenderPeriod"] = {"startDate": _dt(d["start"]), "endDate": _dt(d["end"], "09:30:00")}
    tender["procuringEntity"] = _ref(p.agency)
    if p.items:
        tender["items"] = [{"id": "1", "description": name, "classification": {
            "scheme": "CN-GPCC", "id": code, "description": name}} for code, name in p.items]
    if d["tender_notice"] is not None:
        tender["documents"] = [{"id": "tn-1", "documentType": "tenderNotice",
                                "title": "招标公告" if p.trade == "works" else "采购公告" if p.trade == "government-procurement"
                                else "交易公告", "url": f"{URL}/{ocid}/tn-1",
                                "datePublished": _dt(d["tender_notice"], "08:30:00"), "language": "zh"}]
    parties = [buyer, _party(p.agency, ["procuringEntity"]), _party(p.centre, ["tradingCentre"])]
    if p.extension:
        tender["tradeType"] = p.trade
        if p.trade == "works":
            tender["industry"] = p.industry
        tender["regionCode"] = p.region
        tender["supervisors"] = [{"id": s.code, "responsibility": r} for s, r in p.supervisors]
        parties += [_party(s, ["supervisor"]) for s, _ in p.supervisors]
    release("tender", d["tender_notice"] if d["tender_notice"] and d["tender_notice"] < d["start"] else d["start"],
            buyer=_ref(p.buyer), parties=parties, tender=tender)

    for n, before in enumerate(p.amendment_before, 1):
        day = d["end"] - dt.timedelta(days=before)
        release("tenderAmendment", day, tender={"id": f"{ocid}-tender", "amendments": [{
            "id": str(n), "date": _dt(day, "10:00:00"), "description": f"招标文件澄清与修改（第{n}号）",
            "rationale": "调整工程量清单部分子目及技术要求"}]})

    # The award stage: bids, evaluation and the award (or the declaration that the tender failed).
    stage: dict = {"tender": {"id": f"{ocid}-tender", "status": "complete" if p.awarded else "unsuccessful"}}
    parties = []
    if p.bids:
        details = []
        winner = p.bids[p.winner].tenderer if p.awarded and p.winner is not None else None
        for i, b in enumerate(p.bids, 1):
            detail = {"id": f"bid-{i}", "date": _dt(b.day, b.time), "status": b.status,
                      "tenderers": [_ref(b.tenderer)], "value": _money(b.amount)}
            if p.extension:
                detail["cn"] = {"agent": b.agent, "projectManager": b.manager, "depositAccount": b.account,
                                "documentAuthor": b.author}
            details.append(detail)
            parties.append(_party(b.tenderer, ["tenderer", "supplier"] if b.tenderer is winner else ["tenderer"]))
        stage["bids"] = {"details": details}
        stage["tender"]["numberOfTenderers"] = len({b.tenderer.code for b in p.bids})
        if p.extension and p.trade in ("works", "government-procurement"):
            primary = {"regionCode": p.region}
            if p.primary_venue_supervisor:
                primary["supervisor"] = p.supervisor.code
            evaluation = {"mode": "remote" if p.remote else "local", "reportDate": _d(d["report"]),
                          "primaryVenue": primary}
            if p.remote:
                evaluation["secondaryVenues"] = [{"regionCode": r, **({"supervisor": s.code} if s else {})}
                                                 for r, s in p.secondary]
            stage["tender"]["evaluation"] = evaluation
            if p.trade == "works" and p.awarded:
                stage["tender"]["candidatePublicity"] = {"startDate": _d(d["publicity_start"]),
                                                         "endDate": _d(d["publicity_end"])}
    award_day = d["award"] if p.awarded else d["report"]
    if p.awarded:
        supplier = p.direct_supplier or p.bids[p.winner].tenderer
        if p.direct_supplier:
            parties.append(_party(supplier, ["supplier"]))
        value = p.award_value if p.award_value is not None else p.bids[p.winner].amount
        award = {"id": f"{ocid}-award-1", "title": p.title, "status": "active", "date": _dt(award_day, "10:00:00"),
                 "value": _money(value), "suppliers": [_ref(supplier)]}
        if d["award_notice"] is not None:
            award["documents"] = [{"id": "an-1", "documentType": "awardNotice",
                                   "title": "中标结果公告" if p.trade == "works" else "结果公告",
                                   "url": f"{URL}/{ocid}/an-1", "datePublished": _dt(d["award_notice"], "16:00:00"),
                                   "language": "zh"}]
        stage["awards"] = [award]
    if parties:
        stage["parties"] = parties
    release("award" if p.awarded else "tenderUpdate", award_day, "10:00:00", **stage)

    if p.awarded:
        contract = {"id": f"{ocid}-contract-1", "awardID": f"{ocid}-award-1", "title": f"{p.title}合同",
                    "status": "active", "value": _money(value), "dateSigned": _dt(d["signed"], "15:00:00")}
        if d["contract_pub"] is not None:
            contract["documents"] = [{"id": "cs-1", "documentType": "contractSigned", "title": "合同公告",
                                      "url": f"{URL}/{ocid}/cs-1", "datePublished": _dt(d["contract_pub"], "17:00:00"),
                                      "language": "zh"}]
        release("contract", d["signed"], "15:00:00", contracts=[contract])
    return out


# -- events, credit records, lists ------------------------------------------------------------------
