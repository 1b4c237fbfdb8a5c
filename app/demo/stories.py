"""What the demo city holds: unit coordinates, names for people, and the wishes' stories.

Data only; `app/demo/city.py` and `app/demo/replay.py` play it through the services. Times
are (day relative to the seeding day, hour, minute) in the city's local time, so that the demo's
history lies in the past and its open wishes in the future whenever it is seeded.

Size: the file is the demo city's data, 21 wish stories with their people and times; splitting
it would scatter one story set across files without making any part easier to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.models.enums import Urgency, WishStatus

# Approximate coordinates, set by hand (the division data has none). Villages lie 1–4 km from
# their township's seat.
COORDINATES: dict[str, tuple[float, float]] = {
    "330500000000": (30.894, 120.086),  # 湖州市
    "330523000000": (30.638, 119.680),  # 安吉县
    "330523105000": (30.563, 119.535),  # 孝丰镇
    "330523108000": (30.497, 119.631),  # 天荒坪镇
    "330523105005": (30.570, 119.543),  # 孝丰社区, in the town, ~1.1 km from the seat
    "330523105202": (30.585, 119.519),  # 横溪坞村, ~2.9 km north-west
    "330523108203": (30.482, 119.646),  # 山河村, ~2.2 km south-east
    "330523108204": (30.519, 119.616),  # 余村, ~2.8 km north-west
}

XIAOFENG = "330523105005"  # 孝丰社区
HENGXIWU = "330523105202"  # 横溪坞村
SHANHE = "330523108203"  # 山河村
YUCUN = "330523108204"  # 余村
STATIONS = (XIAOFENG, HENGXIWU, SHANHE, YUCUN)

VOLUNTEERS_PER_STATION = 12
# Residents who place wishes, by home station (the proxy story adds one more).
RESIDENTS_PER_STATION = {XIAOFENG: 3, HENGXIWU: 2, SHANHE: 2, YUCUN: 3}

SURNAMES = tuple("潘汪吴陈王李张刘杨黄赵周徐孙朱胡郭何高林罗郑沈钱施姚俞蒋金章程余方叶邵许鲍柏")
GIVEN_NAMES = (
    "建国",
    "建华",
    "国强",
    "志刚",
    "秀英",
    "桂英",
    "玉兰",
    "美华",
    "丽萍",
    "海燕",
    "春燕",
    "晓峰",
    "晓东",
    "伟",
    "芳",
    "敏",
    "静",
    "磊",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "强",
    "平",
    "丹",
    "婷",
    "慧",
    "琳",
    "宇航",
    "子涵",
    "浩然",
    "雨桐",
    "欣怡",
    "思远",
    "佳琪",
    "梓轩",
    "文杰",
    "国庆",
    "金凤",
    "月娥",
    "阿根",
    "水根",
    "林芳",
    "雪梅",
    "永康",
    "红英",
    "卫东",
    "爱华",
    "小燕",
    "立新",
    "宏伟",
    "佩琴",
)

# Skills of the default catalogue, weighted towards those a village has many of.
COMMON_SKILLS = ("companionship", "housework", "errands", "computer", "agriculture")
OTHER_SKILLS = (
    "repair",
    "medical",
    "first_aid",
    "tutoring",
    "haircut",
    "legal",
    "psychology",
    "performance",
    "lecturing",
    "driving",
    "photography",
    "e_commerce",
    "sign_language",
)

# Weekly availability slots a volunteer picks from (local time).
SLOT_TIMES = (("08:30", "11:30"), ("14:00", "17:00"), ("19:00", "21:00"))

LocalTime = tuple[int, int, int]  # (day relative to the seeding day, hour, minute)


@dataclass(frozen=True)
class WishStory:
    """One wish and how far it gets through the loop.

    The flow: submit → (reject | cancel) or approve → offer or open for grab → accept →
    (withdraw | staff cancel) or check in → check out → rate → close. `ends_in` says where the
    story stops; `twist` takes the side roads.
    """

    station: str
    title: str
    description: str
    category: str
    skills: tuple[str, ...]
    coarse_address: str
    full_address: str
    ends_in: WishStatus
    created: LocalTime
    # (day, hour, minute, hours) of the wanted window; None: around the moment of seeding.
    window: tuple[int, int, int, int] | None
    programme: str | None = None
    season: str | None = None
    urgency: Urgency = Urgency.NORMAL
    via: Literal["offer", "grab"] = "offer"
    # Who sends directed offers: the station's coordinator or the township's (层层派单).
    offer_by: Literal["village", "township"] = "village"
    offer_count: int = 2
    decline: str | None = None  # the last offered volunteer declines with this reason
    proxy: bool = False  # the grid worker (or coordinator) orders for an elderly resident (代点单)
    twist: Literal["withdraw", "staff_cancel"] | None = None
    twist_at: LocalTime | None = None
    reason: str | None = None  # of the reject, cancel or withdraw
    summary: str = ""  # the volunteer's check-out summary
    rating: tuple[int, str] | None = None
    close_note: str | None = None  # None: closed by the system's timer after the rating window


S = WishStatus

STORIES: tuple[WishStory, ...] = (
    WishStory(
        station=YUCUN,
        title="想学用智能手机和孙子视频通话",
        description=(
            "子女在杭州工作，老人想学会用微信视频、发语音和看健康码，希望有耐心的志愿者上门教一教。"
        ),
        category="elderly_orphan_care",
        skills=("computer",),
        coarse_address="余村 2 组附近",
        full_address="安吉县天荒坪镇余村 2 组 18 号",
        ends_in=S.RATED,
        created=(-6, 9, 20),
        window=(-4, 14, 0, 2),
        programme="micro_wish",
        season="family",
        via="grab",
        summary="上门教会老人微信视频通话和语音消息，留下图文操作卡片",
        rating=(5, "小伙子很耐心，教了好几遍，现在能自己视频了"),
    ),
    WishStory(
        station=XIAOFENG,
        title="独居老人家中水龙头漏水",
        description=(
            "厨房水龙头一直滴水，卫生间水管接口渗水。老人独居、行动不便，希望懂水电的志愿者帮忙维修。"
        ),
        category="elderly_orphan_care",
        skills=("repair",),
        coarse_address="孝丰社区老街附近",
        full_address="安吉县孝丰镇孝丰社区老街 36 号 2 单元 101 室",
        ends_in=S.CLOSED,
        created=(-20, 10, 0),
        window=(-18, 9, 0, 3),
        programme="micro_wish",
        season="family",
        summary="更换厨房水龙头阀芯，重新缠绕卫生间水管接口生料带，顺带检查了插座线路",
        rating=(5, "修得很仔细，还帮忙检查了电线"),
        close_note="服务完成，群众满意，予以办结",
    ),
    WishStory(
        station=HENGXIWU,
        title="帮卧床老人上门理发",
        description="家中 86 岁老人长期卧床，头发很长了，家人不会理，希望理发志愿者上门。",
        category="disability_medical",
        skills=("haircut",),
        coarse_address="横溪坞村村口附近",
        full_address="安吉县孝丰镇横溪坞村 5 组 7 号",
        ends_in=S.COMPLETED,
        created=(-4, 10, 0),
        window=(-2, 9, 0, 2),
        programme="micro_wish",
        season="family",
        summary="上门为卧床老人理发、修面，约 40 分钟",
    ),
    WishStory(
        station=SHANHE,
        title="陪空巢老人去县人民医院复查",
        description=(
            "老人需要到安吉县人民医院复查血压和血糖，子女在外地，希望志愿者开车接送并陪同挂号取药。"
        ),
        category="disability_medical",
        skills=("driving", "companionship"),
        coarse_address="山河村 3 组附近",
        full_address="安吉县天荒坪镇山河村 3 组 21 号",
        ends_in=S.IN_SERVICE,
        created=(-3, 9, 0),
        window=None,
        season="family",
        urgency=Urgency.HIGH,
        offer_count=1,
    ),
    WishStory(
        station=YUCUN,
        title="帮忙把自家笋干和白茶放到网上卖",
        description=(
            "家里今年笋干和安吉白茶收成不错，老两口不会网上销售，"
            "希望懂电商的志愿者帮忙拍照上架、联系快递。"
        ),
        category="rural_revival",
        skills=("e_commerce",),
        coarse_address="余村文化礼堂附近",
        full_address="安吉县天荒坪镇余村 5 组 3 号",
        ends_in=S.ACCEPTED,
        created=(-2, 8, 30),
        window=(1, 9, 0, 3),
        programme="enterprises_households",
        season="harvest",
        via="grab",
    ),
    WishStory(
        station=XIAOFENG,
        title="给社区老人讲讲城乡居民医保新政策",
        description=(
            "不少老人对今年城乡居民医保缴费和报销比例的变化不清楚，"
            "希望志愿者到社区活动室集中讲解，约 30 人参加。"
        ),
        category="policy_talks",
        skills=("lecturing",),
        coarse_address="孝丰社区活动室",
        full_address="安吉县孝丰镇孝丰社区党群服务中心二楼活动室",
        ends_in=S.DISPATCHING,
        created=(-2, 14, 0),
        window=(3, 14, 0, 2),
        season="integrity",
        via="grab",
    ),
    WishStory(
        station=HENGXIWU,
        title="重阳节为村里老人拍全家福",
        description="村里准备在重阳节组织敬老活动，想请会摄影的志愿者为老人们拍全家福并冲印出来。",
        category="culture",
        skills=("photography",),
        coarse_address="横溪坞村文化礼堂",
        full_address="安吉县孝丰镇横溪坞村文化礼堂",
        ends_in=S.DISPATCHING,
        created=(-1, 9, 0),
        window=(5, 9, 0, 4),
        programme="our_festivals",
        season="harvest",
        offer_count=3,
        decline="那天要带孩子去杭州看病，去不了",
    ),
    WishStory(
        station=SHANHE,
        title="留守儿童暑期作业辅导",
        description=(
            "村里有 6 个留守儿童，暑假在家没人辅导作业，"
            "希望有大学生志愿者每周来两次，辅导数学和英语。"
        ),
        category="disaster_study",
        skills=("tutoring",),
        coarse_address="山河村党群服务中心",
        full_address="安吉县天荒坪镇山河村党群服务中心一楼书屋",
        ends_in=S.SUBMITTED,
        created=(-1, 13, 30),
        window=(4, 14, 0, 3),
        season="growth",
    ),
    WishStory(
        station=XIAOFENG,
        title="楼道杂物清理和消防通道整治",
        description="老小区 3 幢楼道堆满杂物，堵住了消防通道，希望志愿者协助居民一起清理。",
        category="environment",
        skills=("housework",),
        coarse_address="孝丰社区南门小区",
        full_address="安吉县孝丰镇孝丰社区南门小区 3 幢",
        ends_in=S.APPROVED,
        created=(-2, 10, 0),
        window=(2, 8, 0, 3),
    ),
    WishStory(
        station=YUCUN,
        title="垃圾分类上门指导",
        description="村里新开了几家民宿，经营户对垃圾分类不熟悉，希望志愿者上门讲解并示范。",
        category="environment",
        skills=(),
        coarse_address="余村民宿集中区",
        full_address="安吉县天荒坪镇余村 1 组民宿集中区",
        ends_in=S.DISPATCHING,
        created=(-1, 10, 0),
        window=(2, 9, 0, 2),
        via="grab",
    ),
    WishStory(
        station=HENGXIWU,
        title="帮困难户修补漏雨的屋顶",
        description=(
            "老屋屋顶瓦片破损，下雨天漏雨。希望有维修经验的志愿者帮忙翻瓦补漏，材料由村里提供。"
        ),
        category="poverty_relief",
        skills=("repair",),
        coarse_address="横溪坞村 8 组附近",
        full_address="安吉县孝丰镇横溪坞村 8 组 15 号",
        ends_in=S.APPROVED,
        created=(-6, 9, 0),
        window=(3, 8, 0, 5),
        programme="home_for_all",
        offer_count=1,
        twist="withdraw",
        twist_at=(-2, 19, 0),
        reason="临时接到外地工地的活，这几天不在村里，抱歉",
    ),
    WishStory(
        station=SHANHE,
        title="帮忙安装燃气报警器",
        description="家里买了燃气报警器，不会安装，希望志愿者上门帮忙装好并教一下怎么用。",
        category="neighbourly_watch",
        skills=("repair",),
        coarse_address="山河村 1 组附近",
        full_address="安吉县天荒坪镇山河村 1 组 6 号",
        ends_in=S.CANCELLED,
        created=(-3, 9, 0),
        window=(1, 9, 0, 2),
        programme="micro_wish",
        reason="儿子周末回来已经装好了，谢谢",
    ),
    WishStory(
        station=XIAOFENG,
        title="陪行动不便的老人去银行激活社保卡",
        description="老人腿脚不便，新领的第三代社保卡要到银行网点激活，希望志愿者陪同前往。",
        category="disability_medical",
        skills=("errands", "companionship"),
        coarse_address="孝丰社区新街附近",
        full_address="安吉县孝丰镇孝丰社区新街 12 号",
        ends_in=S.CLOSED,
        created=(-13, 14, 0),
        window=(-11, 14, 0, 2),
        summary="陪同老人到农商银行孝丰支行激活社保卡，并设置了密码",
    ),
    WishStory(
        station=YUCUN,
        title="给村民讲讲民法典里的继承和赡养",
        description=(
            "村里几户人家因老人赡养和宅基地继承有争议，"
            "希望懂法律的志愿者来讲讲民法典相关规定，顺便答疑。"
        ),
        category="policy_talks",
        skills=("legal",),
        coarse_address="余村文化礼堂",
        full_address="安吉县天荒坪镇余村文化礼堂",
        ends_in=S.RATED,
        created=(-5, 9, 0),
        window=(-3, 19, 0, 2),
        season="integrity",
        offer_by="township",
        summary="讲解民法典继承编和赡养义务相关条款，现场解答 8 个问题",
        rating=(4, "讲得很实在，就是时间有点短"),
    ),
    WishStory(
        station=SHANHE,
        title="婚事新办：帮忙布置简朴婚礼现场",
        description=(
            "村民家孩子下月结婚，响应移风易俗、婚事新办，想在村文化礼堂办简朴婚礼，"
            "希望志愿者帮忙布置会场并拍照。"
        ),
        category="civil_customs",
        skills=("photography",),
        coarse_address="山河村文化礼堂",
        full_address="安吉县天荒坪镇山河村文化礼堂",
        ends_in=S.ACCEPTED,
        created=(-2, 10, 0),
        window=(6, 9, 0, 6),
    ),
    WishStory(
        station=HENGXIWU,
        title="陪聋哑村民办理残疾证年审",
        description="村里一位聋哑村民要去县残联办理残疾证年审，家人没空，希望懂手语的志愿者陪同沟通。",
        category="disability_medical",
        skills=("sign_language",),
        coarse_address="横溪坞村 2 组附近",
        full_address="安吉县孝丰镇横溪坞村 2 组 9 号",
        ends_in=S.IN_SERVICE,
        created=(-2, 9, 0),
        window=None,
        via="grab",
    ),
    WishStory(
        station=XIAOFENG,
        title="帮忙把装修建材搬上六楼",
        description="家里装修，买的瓷砖和水泥要从楼下搬到六楼，想请志愿者帮忙。",
        category="neighbourly_watch",
        skills=(),
        coarse_address="孝丰社区北门小区",
        full_address="安吉县孝丰镇孝丰社区北门小区 5 幢 601 室",
        ends_in=S.REJECTED,
        created=(-5, 11, 0),
        window=(-3, 9, 0, 4),
        reason="装修搬运属于有偿劳务，不在志愿服务范围内；已为您联系社区便民服务点的搬运师傅。",
    ),
    WishStory(
        station=YUCUN,
        title="帮五保户大扫除",
        description="村里两户五保老人年纪大了，希望志愿者帮忙打扫卫生、擦窗户、清理院子。",
        category="poverty_relief",
        skills=("housework",),
        coarse_address="余村 4 组附近",
        full_address="安吉县天荒坪镇余村 4 组 11 号、13 号",
        ends_in=S.COMPLETED,
        created=(-5, 8, 30),
        window=(-2, 13, 0, 3),
        programme="household_pairs",
        season="family",
        via="grab",
        summary="为两户五保老人打扫房间、擦洗门窗、清理院子杂草",
    ),
    WishStory(
        station=SHANHE,
        title="老人家中电线老化，想请人检查",
        description=(
            "网格走访发现，一位独居老人家中电线老化、插座发烫。老人不会用手机，"
            "由网格员代为下单，希望懂电工的志愿者上门检查。"
        ),
        category="neighbourly_watch",
        skills=("repair",),
        coarse_address="山河村 4 组附近",
        full_address="安吉县天荒坪镇山河村 4 组 2 号",
        ends_in=S.SUBMITTED,
        created=(-1, 11, 0),
        window=(1, 14, 0, 2),
        programme="micro_wish",
        urgency=Urgency.HIGH,
        proxy=True,
    ),
    WishStory(
        station=XIAOFENG,
        title="为残疾人家属做心理疏导",
        description="社区一位残疾人的家属长期照护压力大、情绪低落，希望有心理咨询资质的志愿者上门聊一聊。",
        category="disability_medical",
        skills=("psychology",),
        coarse_address="孝丰社区东街附近",
        full_address="安吉县孝丰镇孝丰社区东街 8 号",
        ends_in=S.CANCELLED,
        created=(-8, 9, 0),
        window=(-5, 15, 0, 2),
        offer_count=1,
        twist="staff_cancel",
        twist_at=(-6, 10, 0),
        reason="服务对象已转介到县精神卫生中心，由专业医生跟进，本次服务取消",
    ),
    WishStory(
        station=HENGXIWU,
        title="中秋节给村里老人办一场文艺演出",
        description=(
            "村文化礼堂想在中秋节前为老人办一场小型文艺演出，"
            "需要会唱越剧、表演小品或演奏乐器的志愿者。"
        ),
        category="culture",
        skills=("performance",),
        coarse_address="横溪坞村文化礼堂",
        full_address="安吉县孝丰镇横溪坞村文化礼堂",
        ends_in=S.DISPATCHING,
        created=(-1, 14, 0),
        window=(7, 14, 0, 3),
        programme="our_festivals",
        season="harvest",
        offer_by="township",
        offer_count=3,
    ),
)
