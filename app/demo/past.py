"""What the demo city's history draws from: its size, the kinds of wishes, how busy each month
is, the reasons and ratings people give. Data only; `app/demo/history.py` plays it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.demo.city import (
    DemoVolunteer,
)
from app.demo.stories import HENGXIWU, SHANHE, XIAOFENG, YUCUN
from app.models import User
from app.wishes.schemas import (
    OnBehalfOf,
)

# The history starts this many days before the seeding day and its wishes are placed until
# `LAST_DAY` days before it (the stories take the last weeks).
HISTORY_DAYS = 460
LAST_DAY = 12
# How many wishes the history places (before the monthly weighting thins a few out).
HISTORY_WISHES = 240
VOLUNTEERS_PER_STATION = 11  # of the history, joining over its months
RESIDENTS_PER_STATION = 9  # with the app, placing their own wishes
FIRST_VOLUNTEER = 49  # the stories' volunteers have 1..48
FIRST_RESIDENT = 11  # the stories' residents have 1..10; proxied ones 101..

TOWNSHIP = {XIAOFENG: "安吉县孝丰镇", HENGXIWU: "安吉县孝丰镇", SHANHE: "安吉县天荒坪镇",
            YUCUN: "安吉县天荒坪镇"}  # fmt: skip
PLACE = {XIAOFENG: "孝丰社区", HENGXIWU: "横溪坞村", SHANHE: "山河村", YUCUN: "余村"}

# How busy each month is (1 = an ordinary month): the Spring Festival and 清明 visits, the
# summer holidays' tutoring, the harvest, the year's end.
MONTH_WEIGHT = {1: 1.3, 2: 1.25, 3: 1.0, 4: 1.1, 5: 0.8, 6: 0.85, 7: 1.1, 8: 1.05, 9: 1.25,
                10: 1.3, 11: 0.9, 12: 1.0}  # fmt: skip
FESTIVAL_BOOST = 1.6  # in the week before a festival


@dataclass(frozen=True)
class Kind:
    """A kind of wish the history draws from."""

    category: str
    title: str
    description: str
    skills: tuple[str, ...]
    hours: tuple[int, int]  # shortest and longest service
    seasons: tuple[str, ...] = ()  # the 四季红 seasons it belongs to (more likely then)
    festival: bool = False  # held for a festival (我们的节日)
    programme: str | None = None


KINDS: tuple[Kind, ...] = (
    Kind(
        "elderly_orphan_care",
        "陪独居老人聊天、读报",
        "老人独居，子女在外地，希望有人每周来陪着说说话、读读报纸。",
        ("companionship",),
        (1, 2),
        ("family",),
        programme="micro_wish",
    ),
    Kind(
        "elderly_orphan_care",
        "帮高龄老人打扫房间",
        "老人年纪大了弯不下腰，屋里好久没好好打扫，希望志愿者帮忙。",
        ("housework",),
        (2, 3),
        ("family",),
    ),
    Kind(
        "elderly_orphan_care",
        "教老人用手机挂号和视频",
        "老人想学用手机预约挂号、和外地的孩子视频。",
        ("computer",),
        (1, 2),
        ("family",),
        programme="micro_wish",
    ),
    Kind(
        "disability_medical",
        "陪老人去卫生院配药",
        "老人行动不便，需要每月去镇卫生院配降压药，希望有人陪同。",
        ("errands", "companionship"),
        (2, 3),
    ),
    Kind(
        "poverty_relief",
        "帮困难户代购生活用品",
        "困难户家中缺米缺油，行动不便，希望志愿者帮忙采购送上门。",
        ("errands",),
        (1, 2),
        ("family", "harvest"),
        programme="household_pairs",
    ),
    Kind(
        "rural_revival",
        "帮茶农采摘和炒制白茶",
        "茶季人手不够，希望懂农活的志愿者帮忙采茶、摊青。",
        ("agriculture",),
        (3, 4),
        ("harvest", "family"),
    ),
    Kind(
        "rural_revival",
        "帮农户在网上卖土特产",
        "家里的笋干、山核桃不会在网上卖，希望志愿者帮忙拍照上架。",
        ("computer",),
        (2, 3),
        ("harvest",),
        programme="enterprises_households",
    ),
    Kind(
        "disaster_study",
        "给留守儿童辅导作业",
        "孩子父母在外打工，作业没人辅导，希望志愿者每周来辅导。",
        ("companionship",),
        (2, 3),
        ("growth",),
    ),
    Kind(
        "culture",
        "节日文艺汇演帮忙布置会场",
        "村文化礼堂节日要办活动，需要志愿者帮忙布置会场、维持秩序。",
        ("housework",),
        (3, 4),
        ("growth", "harvest"),
        festival=True,
        programme="our_festivals",
    ),
    Kind(
        "civil_customs",
        "节日包粽子、做汤圆送老人",
        "村里组织过节，希望志愿者一起做节令食品送到独居老人家中。",
        ("housework", "companionship"),
        (2, 3),
        ("family",),
        festival=True,
        programme="our_festivals",
    ),
    Kind(
        "environment",
        "村道和河道垃圾清理",
        "村道两侧和河边垃圾较多，希望志愿者一起清理。",
        ("housework",),
        (2, 3),
        ("growth", "integrity"),
    ),
    Kind(
        "policy_talks",
        "帮老人弄懂医保缴费",
        "老人不清楚今年医保怎么缴、怎么报销，希望有人讲一讲、帮忙操作。",
        ("computer",),
        (1, 2),
        ("integrity",),
    ),
    Kind(
        "neighbourly_watch",
        "帮忙检查家里的电线插座",
        "家里插座有点松动，担心安全，希望懂维修的志愿者看看。",
        ("repair",),
        (1, 2),
        ("integrity", "family"),
    ),
    Kind(
        "neighbourly_watch",
        "帮邻居搬运过冬的柴火",
        "老人家里过冬的柴火堆在院外，希望志愿者帮忙搬进柴房。",
        ("errands",),
        (2, 3),
        ("integrity",),
    ),
)
HISTORY_SKILLS = ("companionship", "housework", "errands", "computer", "agriculture", "repair")

REJECT_REASONS = (
    "属于有偿家政服务，不在志愿服务范围内，已为您介绍社区便民服务点",
    "同一事项已有心愿在办，请勿重复提交",
    "涉及邻里纠纷，已转村调解委员会处理",
)
CANCEL_REASONS = (
    "家里人回来了，已经办好了",
    "老人住院了，暂时不需要",
    "时间改了，过几天再重新提",
)
RATINGS = (
    (5, "志愿者很热心，办得又快又好"),
    (5, "非常感谢，老人很满意"),
    (5, "服务周到，下次还找你们"),
    (4, "挺好的，就是来得稍晚了一点"),
    (4, "办得不错，谢谢"),
    (3, "事情办了，但时间比说好的短"),
    (2, "来的人不太熟悉情况"),
)
RATING_WEIGHTS = (30, 20, 15, 14, 10, 8, 3)
DECLINES = ("那天家里有事，去不了", "临时要加班，抱歉", "最近身体不太舒服")


@dataclass
class Past:
    """One wish of the history being played."""

    station: str
    kind: Kind
    created: datetime
    start: datetime
    end: datetime
    channel: str  # self | proxy (grid worker or staff for a resident without the app)
    requester: User | None = None
    proxy_for: OnBehalfOf | None = None
    wish_id: int = 0
    offered: list[DemoVolunteer] = field(default_factory=list)
    assignee: DemoVolunteer | None = None
