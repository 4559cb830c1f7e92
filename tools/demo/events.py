"""Events: credit records and the execution of their measures, complaints, clues, plans and
inspections -- the supervision records around the projects."""
from __future__ import annotations

import datetime as dt

from .projects import Scenarios
from .world import (CREDIT_BASIS, FIRST_DAY, INDUSTRIES, MEASURE_EXECUTOR, MEASURES_BY_TRADE, PROVINCE,
                    RESTRICTED_TRADES, TRADE_TYPES, _SOURCES, Dept, Org, Project, _d, _ref)


class Events(Scenarios):
    def event(self, record: dict) -> dict:
        self.events.append(record)
        return record

    # ---- credit records and the execution of their measures
    def make_credit(self) -> None:
        rng, R = self.rng, self.restricted
        serious = [  # (key, trade, decided, years valid, measure left unexecuted / executed late)
            ("R1", "works", dt.date(2026, 1, 20), 1, None), ("R2", "works", dt.date(2026, 2, 10), 2, None),
            ("R3", "government-procurement", dt.date(2025, 11, 14), 3, None),
            ("R4", "works", dt.date(2025, 4, 1), 1, None), ("R5", "works", dt.date(2026, 8, 3), 1, None),
            ("R6", "land-use-right", dt.date(2026, 3, 5), 2, ("land-mining-restriction", None)),
            ("R7", "drug-procurement", dt.date(2026, 5, 12), 2, ("drug-procurement-restriction", 69)),
            ("R8", "state-assets", dt.date(2026, 4, 8), 1, None),
            ("R9", "government-procurement", dt.date(2026, 6, 18), 3, None),
        ]
        n = 0
        for key, trade, decided, years, gap in serious:
            n += 1
            org = R[key]
            rid = f"CR-{decided.year}-{n:04d}"
            measures = MEASURES_BY_TRADE[trade]
            trades = sorted({t for m in measures for t in RESTRICTED_TRADES.get(m, [])})
            until = decided.replace(year=decided.year + years) - dt.timedelta(days=1)
            decider = self.prov(trade, "housing-municipal" if trade == "works" else "")
            self.credit_rows.append([org.code, org.name, "serious-dishonesty", decider.code, _d(decided), _d(decided),
                                     _d(until), ";".join(measures), ";".join(trades), CREDIT_BASIS[trade], rid])
            for m in measures:
                if gap and gap[0] == m and gap[1] is None:
                    self.plant("CRD-MEASURE-NOT-EXECUTED", rid, f"measure {m} of {org.name}'s record was never executed")
                    continue
                late = gap and gap[0] == m
                day = decided + dt.timedelta(days=gap[1] if late else rng.randint(3, 25))
                self.event({"recordType": "sanctionExecution", "id": f"SE-{rid[3:]}-{m}", "creditRecord": rid,
                            "department": self.prov(*MEASURE_EXECUTOR[m]).code, "measure": m, "date": _d(day)})
                if late:
                    self.plant("CRD-MEASURE-NOT-EXECUTED", rid, f"measure {m} executed {gap[1]} days after the decision")
        # Administrative penalties and good-credit records of entities that keep trading.
        free = [o for o in self.market_entities() if o.code not in self.excluded]
        subjects = rng.sample(free, 20)
        pool_of = {o.code: name for name, pool in self.pools.items() for o in pool}
        for k, org in enumerate(subjects):
            n += 1
            pool = pool_of[org.code]
            trade = pool if pool in TRADE_TYPES else "works" if pool in INDUSTRIES else "other"
            decided = dt.date(2025, 9, 1) + dt.timedelta(days=rng.randint(0, 360))
            rid = f"CR-{decided.year}-{n:04d}"
            if k < 12:
                industry = pool if pool in INDUSTRIES else ""
                decider = self.ref.supervising(trade, industry, rng.choice(self.pref_codes))
                basis = CREDIT_BASIS.get(trade, "《公共资源交易平台管理暂行办法》（国家发展改革委等14部委令第39号）第四十七条")
                until = decided.replace(year=decided.year + 1) - dt.timedelta(days=1)
                self.credit_rows.append([org.code, org.name, "administrative-penalty", decider.code, _d(decided),
                                         _d(decided), _d(until), "", trade, basis, rid])
            else:
                decider = self.prov("other")
                until = decided.replace(year=decided.year + 2) - dt.timedelta(days=1)
                self.credit_rows.append([org.code, org.name, "good-credit", decider.code, _d(decided), _d(decided),
                                         _d(until), "", "", "《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进"
                                         "社会诚信建设的指导意见》（国发〔2016〕33号）", rid])

    # ---- complaints
    def _complaint_projects(self, trade: str, latest: dt.date, earliest: dt.date = FIRST_DAY) -> list[Project]:
        return [p for p in self.projects if p.trade == trade and p.extension and p.awarded and len(p.bids) >= 2
                and earliest <= p.dates(self.cal)["award"] <= latest and not p.remote]

    def _loser(self, p: Project) -> Org:
        return next(b.tenderer for i, b in enumerate(p.bids) if i != p.winner)

    def complaint(self, p: Project, received: dt.date, accept_wd: int | None, decide_wd: int | None,
                  handler: Dept | None = None, rejected: bool = False, transfers: list | None = None) -> dict:
        cal = self.cal
        rec = {"recordType": "complaint", "id": f"TS-2026-{len(self._cids) + 1:04d}", "project": p.ocid,
               "complainant": _ref(self._loser(p)), "handler": (handler or p.supervisor).code,
               "receivedDate": _d(received)}
        self._cids.append(rec["id"])
        if accept_wd is not None:
            decided = cal.add_workdays(received, accept_wd)
            rec["rejectedDate" if rejected else "acceptedDate"] = _d(decided)
            if decide_wd is not None and not rejected:
                start = decided if p.trade == "works" else received  # GP counts from receipt
                rec["decisionDate"] = _d(cal.add_workdays(start, decide_wd))
        if transfers:
            rec["transfers"] = transfers
        return self.event(rec)

    def transfer(self, to: Dept, day: dt.date, feedback_wd: int | None) -> dict:
        t = {"to": to.code, "date": _d(day)}
        if feedback_wd is not None:
            t["feedbackDate"] = _d(self.cal.add_workdays(day, feedback_wd))
        return t

    def make_complaints(self) -> None:
        rng, cal = self.rng, self.cal
        self._cids: list[str] = []
        works = self._complaint_projects("works", dt.date(2026, 8, 20))
        gp = self._complaint_projects("government-procurement", dt.date(2026, 8, 10))
        rng.shuffle(works)
        rng.shuffle(gp)
        # Compliant complaints: works 3 / GP 5 working days to accept, 30 working days to decide.
        for p in works[:14]:
            award = p.dates(cal)["award"]
            received = award + dt.timedelta(days=rng.randint(1, 8))
            if rng.random() < 0.2:
                self.complaint(p, received, rng.randint(1, 3), None, rejected=True)
            elif rng.random() < 0.25:
                t = self.transfer(self.ref.of_type("discipline", p.prefecture), cal.add_workdays(received, 4),
                                  rng.randint(3, 14))
                self.complaint(p, received, rng.randint(1, 3), rng.randint(10, 28), transfers=[t])
            else:
                self.complaint(p, received, rng.randint(1, 3), rng.randint(8, 28))
        for p in gp[:10]:
            received = p.dates(cal)["award"] + dt.timedelta(days=rng.randint(8, 20))
            self.complaint(p, received, rng.randint(1, 5), rng.randint(12, 29))
        # CMP-ACCEPT: 4 working days (works), 6 across May Day (GP), never decided; boundaries comply.
        p = works[14]
        c = self.complaint(p, p.dates(cal)["award"] + dt.timedelta(days=3), 4, 20)
        self.plant("CMP-ACCEPT", c["id"], "works complaint accepted 4 working days after receipt")
        early = self._complaint_projects("works", dt.date(2026, 2, 12))
        p = early[0] if early else works[15]
        c = self.complaint(p, dt.date(2026, 2, 13), 3, 20)  # Feb 14 (a working Saturday), 24, 25: complies
        gp_april = [q for q in gp[10:] if q.dates(cal)["award"] <= dt.date(2026, 4, 25)]
        for wd, bad in ((6, True), (5, False)):
            p = gp_april.pop()
            c = self.complaint(p, dt.date(2026, 4, 29), wd, 20)
            if bad:
                self.plant("CMP-ACCEPT", c["id"], "procurement complaint received 2026-04-29, accepted "
                           f"{c['acceptedDate']}: 6 working days across the May Day holiday")
        p = works[16]
        c = self.complaint(p, dt.date(2026, 9, 1), None, None)
        self.plant("CMP-ACCEPT", c["id"], "complaint received 2026-09-01, never accepted or refused")
        # CMP-DECIDE-30WD
        p = works[17]
        c = self.complaint(p, p.dates(cal)["award"] + dt.timedelta(days=2), 2, 34)
        self.plant("CMP-DECIDE-30WD", c["id"], "works decision 34 working days after acceptance")
        p = gp_april.pop()
        c = self.complaint(p, p.dates(cal)["award"] + dt.timedelta(days=10), 3, 32)
        self.plant("CMP-DECIDE-30WD", c["id"], "procurement decision 32 working days after receipt")
        # CMP-FEEDBACK: a transfer never answered, one answered after 20 working days.
        for fb, p in ((None, works[18]), (20, works[19])):
            received = p.dates(cal)["award"] + dt.timedelta(days=2)
            t = self.transfer(self.ref.of_type("discipline", p.prefecture), cal.add_workdays(received, 3), fb)
            c = self.complaint(p, received, 2, 25, transfers=[t])
            self.plant("CMP-FEEDBACK", c["id"], "transfer to the discipline body " +
                       ("never answered" if fb is None else "answered after 20 working days"))
        # REM-RESULT-SHARED: complaints about remote evaluations handled at the host venue.
        remote = [p for p in self.projects if p.remote and p.awarded and p.bids and p.extension
                  and all(s is not None for _, s in p.secondary) and p.primary_venue_supervisor
                  and p.dates(cal)["award"] <= dt.date(2026, 8, 20)]
        rng.shuffle(remote)
        for share_wd, p in ((None, remote[0]), (9, remote[1]), (3, remote[2])):
            host = p.secondary[0][1]
            received = p.dates(cal)["award"] + dt.timedelta(days=3)
            transfers = [] if share_wd is None else [self.transfer(p.supervisor, cal.add_workdays(received, share_wd), 4)]
            c = self.complaint(p, received, 2, 18, handler=host, transfers=transfers)
            if share_wd != 3:
                self.plant("REM-RESULT-SHARED", c["id"], f"complaint handled by the host-venue supervisor {host.name} "
                           + ("never transferred to the primary supervisor" if share_wd is None
                              else "transferred to the primary supervisor after 9 working days"))
        for p in remote[3:6]:
            received = p.dates(cal)["award"] + dt.timedelta(days=2)
            self.complaint(p, received, 2, 15)

    # ---- clues
    def make_clues(self) -> None:
        rng, cal = self.rng, self.cal
        subjects = rng.sample([o for o in self.market_entities() if o.code not in self.excluded], 16)
        for k, org in enumerate(subjects):
            received = dt.date(2026, 2, 2) + dt.timedelta(days=rng.randint(0, 200))
            pref = rng.choice(self.pref_codes)
            to = self.ref.of_type("discipline", pref) if k % 2 else self.ref.supervising("works", "housing-municipal", pref)
            day = received + dt.timedelta(days=rng.randint(1, 5))
            feedback = day + dt.timedelta(days=rng.randint(5, 28))
            rec = {"recordType": "clue", "id": f"XS-2026-{k + 1:04d}", "subject": org.code, "source": rng.choice(_SOURCES),
                   "receivedDate": _d(received), "transfers": [{"to": to.code, "date": _d(day), "feedbackDate": _d(feedback)}],
                   "closedDate": _d(feedback + dt.timedelta(days=rng.randint(3, 20)))}
            if k == 0:
                rec["transfers"][0].pop("feedbackDate")
                rec.pop("closedDate")
                self.plant("CLU-FEEDBACK", rec["id"], "clue transferred, never answered")
            elif k == 1:
                late = day + dt.timedelta(days=45)
                rec["transfers"][0]["feedbackDate"] = _d(late)
                rec["closedDate"] = _d(late + dt.timedelta(days=5))
                self.plant("CLU-FEEDBACK", rec["id"], "clue feedback 45 days after the transfer")
            elif k == 2:
                rec["transfers"][0]["feedbackDate"] = _d(day + dt.timedelta(days=30))  # boundary: complies
            self.event(rec)

    # ---- plans and inspections
    def inspection(self, target: Org, depts: list[Dept], day: dt.date, *, kind: str = "routine", draw: bool = True,
                   publish_wd: int | None = None, plan: str | None = None, item: str | None = None,
                   project: str | None = None) -> dict:
        rng = self.rng
        rec = {"recordType": "inspection", "id": f"JC-{day.year}-{len(self._iids) + 1:04d}", "target": target.code,
               "departments": [d.code for d in depts], "date": _d(day), "joint": len(depts) > 1, "kind": kind}
        self._iids.append(rec["id"])
        if plan:
            rec["plan"], rec["planItem"] = plan, item
        if draw:
            rec["randomDraw"] = {"targetsFrom": f"{depts[0].name}随机抽查对象名录库",
                                 "inspectorsFrom": f"{depts[0].name}执法检查人员名录库",
                                 "seed": rng.randrange(10**6, 10**7), "date": _d(day - dt.timedelta(days=rng.randint(3, 10)))}
        if project:
            rec["project"] = project
        wd = rng.randint(5, 18) if publish_wd is None else publish_wd
        if wd >= 0:
            rec["resultPublishedDate"] = _d(self.cal.add_workdays(day, wd))
        return self.event(rec)

    def make_plans_and_inspections(self) -> None:
        rng = self.rng
        self._iids: list[str] = []
        prov = [d for d in self.ref.depts.values() if d.type == "supervision" and d.region == PROVINCE]
        prov.sort(key=lambda d: d.code)
        health = self.prov("drug-procurement")
        targets = [o for o in self.market_entities() if o.code not in self.excluded]
        rng.shuffle(targets)
        # 2025: a joint plan of every provincial department, executed, never summarised.
        items25 = [{"id": "2025-01", "subject": "房屋建筑和市政工程招标代理机构专项检查",
                    "departments": [self.prov("works", "housing-municipal").code, self.prov("other").code],
                    "due": "2025-12-31"},
                   {"id": "2025-02", "subject": "政府采购代理机构执业情况联合检查",
                    "departments": [self.prov("government-procurement").code, self.prov("other").code],
                    "due": "2025-12-31"}]
        plan25 = self.event({"recordType": "plan", "id": "JH-2025-530000", "year": 2025,
                             "departments": [d.code for d in prov], "kind": "joint-annual", "items": items25})
        self.plant("PLN-SUMMARY-MISSING", plan25["id"], "the 2025 joint plan was never summarised")
        for k, item in enumerate(items25):
            depts = [self.ref.depts[c] for c in item["departments"]]
            self.inspection(targets.pop(), depts, dt.date(2025, 11, 10 + 7 * k), kind="special",
                            plan=plan25["id"], item=item["id"])
        # 2026: the healthcare-security administration is left out; two items never executed.
        members = [d for d in prov if d is not health]
        subjects = ["工程建设项目评标专家库使用情况联合检查", "政府采购意向公开和合同公开专项检查",
                    "国有建设用地使用权出让交易专项检查", "企业国有产权交易进场情况检查",
                    "水利工程招标投标活动专项检查", "交通工程远程异地评标监管专项检查",
                    "公共资源交易中心场所见证服务检查", "矿业权出让交易合规性专项检查"]
        items26 = []
        for k, subject in enumerate(subjects):
            pair = [members[k % len(members)], members[(k + 3) % len(members)]]
            due = dt.date(2026, 3 + k, 28) if k < 6 else (dt.date(2026, 6, 30) if k == 6 else dt.date(2026, 9, 30))
            items26.append({"id": f"2026-{k + 1:02d}", "subject": subject, "departments": [d.code for d in pair],
                            "due": _d(due)})
        plan26 = self.event({"recordType": "plan", "id": "JH-2026-530000", "year": 2026,
                             "departments": [d.code for d in members], "kind": "joint-annual", "items": items26})
        self.plant("PLN-ANNUAL-MISSING", health.code, f"{health.name} is in no joint annual plan for 2026")
        for item in items26[:6]:
            due = dt.date.fromisoformat(item["due"])
            depts = [self.ref.depts[c] for c in item["departments"]]
            self.inspection(targets.pop(), depts, due - dt.timedelta(days=rng.randint(3, 20)), kind="special",
                            plan=plan26["id"], item=item["id"])
        for item in items26[6:]:
            self.plant("PLN-NOT-EXECUTED", plan26["id"], f"item {item['id']} ({item['subject']}) has no inspection "
                       f"by its due date {item['due']}")
        # Routine "double random" inspections: one department, one target each.
        sup_depts = sorted((d for d in self.ref.depts.values() if d.type == "supervision"), key=lambda d: d.code)
        for _ in range(30):
            day = dt.date(2026, 2, 2) + dt.timedelta(days=rng.randint(0, 220))
            self.inspection(targets.pop(), [rng.choice(sup_depts)], day)
        # Complaint-led inspections of a project's winner.
        for c in [e for e in self.events if e["recordType"] == "complaint" and "decisionDate" in e][:4]:
            p = self.by_ocid[c["project"]]
            winner = p.bids[p.winner].tenderer
            day = dt.date.fromisoformat(c["acceptedDate"]) + dt.timedelta(days=5)
            if winner.code not in {o.code for o in targets}:
                continue
            targets.remove(winner)
            self.inspection(winner, [p.supervisor], day, kind="complaint", draw=False, project=p.ocid)
        # INS-REPEAT: one entity inspected separately by two departments in Q2.
        target = targets.pop()
        first = self.inspection(target, [self.prov("works", "housing-municipal")], dt.date(2026, 4, 14))
        second = self.inspection(target, [self.prov("government-procurement")], dt.date(2026, 5, 20))
        self.plant("INS-REPEAT", second["id"], f"{target.name} inspected by two departments separately in 2026 Q2",
                   [first["id"], second["id"]])
        # INS-NO-RANDOM-DRAW
        for _ in range(2):
            rec = self.inspection(targets.pop(), [rng.choice(sup_depts)], dt.date(2026, 3, 2) + dt.timedelta(
                days=rng.randint(0, 120)), draw=False)
            self.plant("INS-NO-RANDOM-DRAW", rec["id"], "routine inspection without a recorded random draw")
        # INS-PUBLISH-20WD: 24 working days across National Day, never published; 20 complies.
        for day, wd, bad in ((dt.date(2026, 9, 15), 24, True), (dt.date(2026, 8, 3), -1, True),
                             (dt.date(2026, 9, 16), 20, False)):
            rec = self.inspection(targets.pop(), [rng.choice(sup_depts)], day, publish_wd=wd)
            if bad:
                self.plant("INS-PUBLISH-20WD", rec["id"], "results published 24 working days later" if wd > 0
                           else "results never published")
