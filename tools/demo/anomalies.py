"""Anomalies: the statistical patterns OCP Cardinal's indicators look for, planted over the
finished projects (after the events and lists, so the rest of the demo stays as it was)."""
from __future__ import annotations

import json
from collections import defaultdict

from prtkg.catalogue import rule as catalogue_rule

from .projects import Scenarios
from .world import Bid, Project


class Anomalies(Scenarios):
    # ---- Cardinal outliers that need a deliberate plant (after everything else, like relations)
    def cardinal_plants(self) -> None:
        taken = {p.record for p in self.planted} | {r for p in self.planted for r in p.related}
        ordinary = [p for p in sorted(self.projects, key=lambda p: p.ocid)
                    if p.trade == "works" and p.awarded and p.winner is not None and p.ocid not in taken
                    and len(p.bids) >= 4 and all(b.status == "valid" for b in p.bids)]
        # A heavily discounted winning bid: price only, every other bid at least 22% above the winner's.
        p = next(p for p in ordinary if p.criteria == "priceOnly"
                 and p.bids[p.winner].amount == min(b.amount for b in p.bids))
        win = p.bids[p.winner].amount
        for k, i in enumerate(sorted((i for i in range(len(p.bids)) if i != p.winner), key=lambda i: p.bids[i].amount)):
            p.bids[i].amount = round(max(p.bids[i].amount, win * (1.22 + 0.013 * k)), 2)
        self.plant("RISK-HEAVY-DISCOUNT", p, "the winning bid is 22% below the second-lowest valid bid")
        taken.add(p.ocid)
        # Runners-up a hair above the winner (0.06-0.19%), where bids elsewhere stand a few percent
        # apart: the second bid looks priced to lose.
        covers = {o.code for c in self.cover_bidders().values() for o in c}
        hair = [q for q in ordinary if q.ocid not in taken and q.bids[q.winner].amount == min(b.amount for b in q.bids)
                and not {b.tenderer.code for b in q.bids} & covers]
        for q, share in zip(hair, (0.0006, 0.0011, 0.0019)):
            win = q.bids[q.winner].amount
            second = min((b for i, b in enumerate(q.bids) if i != q.winner), key=lambda b: b.amount)
            second.amount = round(win * (1 + share), 2)
            self.plant("RISK-WINNING-MARGIN-LOW", q, f"the second-lowest valid bid is only {share:.2%} above the winner's")
            taken.add(q.ocid)
        # Cover bidders: many tenders, no win.
        for code_ in sorted(covers):
            joined = sorted(q.ocid for q in self.projects if any(b.tenderer.code == code_ for b in q.bids))
            name = next(b.tenderer.name for q in self.projects for b in q.bids if b.tenderer.code == code_)
            self.plant("RISK-LOW-WIN-RATE", code_, f"{name}: bid in {len(joined)} tenders, won none", joined)
        # A supplier that wins goods and services of unrelated classes (computers, furniture, property
        # services ...): it swaps places with the winner in procurements it bid in anyway.
        mentioned = {q.ocid for q in self.projects if any(q.ocid in json.dumps(e) for e in self.events)}
        gp = [q for q in sorted(self.projects, key=lambda q: q.ocid)
              if q.trade == "government-procurement" and q.awarded and q.winner is not None and q.items
              and q.ocid not in taken and q.ocid not in mentioned and len(q.bids) >= 3
              and all(b.status == "valid" for b in q.bids)]
        n = catalogue_rule("RISK-HETEROGENEOUS-SUPPLIER").param("prefix_length")
        reach: dict[str, dict[str, Project]] = defaultdict(dict)
        for q in gp:
            for b in q.bids:
                if b.tenderer.code not in covers:
                    reach[b.tenderer.code].setdefault(q.items[0][0][:n], q)
        firm, by_class = max(sorted(reach.items()), key=lambda kv: len({q.buyer.code for q in kv[1].values()}))
        won, buyers = [], set()
        for cls, q in sorted(by_class.items()):
            if q.buyer.code in buyers or firm in self.won_from[q.buyer.code] - {q.bids[q.winner].tenderer.code}:
                continue
            i = next(i for i, b in enumerate(q.bids) if b.tenderer.code == firm)
            if i != q.winner:
                q.bids[i].amount, q.bids[q.winner].amount = q.bids[q.winner].amount, q.bids[i].amount
                q.winner = i
            buyers.add(q.buyer.code)
            won.append(q)
            taken.add(q.ocid)
        name = won[0].bids[won[0].winner].tenderer.name
        self.plant("RISK-HETEROGENEOUS-SUPPLIER", firm, f"{name} won {len(won)} procurements of unrelated classes: "
                   + "、".join(q.items[0][1] for q in won), [q.ocid for q in won])
        # A tenderer whose bids are disqualified again and again: three losing, not lowest bids.
        losing: dict[str, list[tuple[Project, Bid]]] = defaultdict(list)
        for q in ordinary:
            if q.ocid in taken:
                continue
            low = min(b.amount for b in q.bids)
            for i, b in enumerate(q.bids):
                if i != q.winner and b.amount != low and b.tenderer.code not in covers:
                    losing[b.tenderer.code].append((q, b))
        code_, bids = max(sorted(losing.items()), key=lambda kv: len({q.ocid for q, _ in kv[1]}))
        chosen, seen = [], set()
        for q, b in bids:
            if q.ocid not in seen:
                seen.add(q.ocid)
                chosen.append((q, b))
        for q, b in chosen[:3]:
            b.status = "disqualified"
        self.plant("RISK-DISQUALIFICATION-RATE", code_, f"{chosen[0][1].tenderer.name}: bids disqualified in 3 tenders",
                   [q.ocid for q, _ in chosen[:3]])
