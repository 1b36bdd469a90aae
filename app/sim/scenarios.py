"""The data of the simulated district: places, the channel mix, daily profiles and texts.

Kept apart from :mod:`app.sim.simulator` (the logic) so that the stream can be tuned without
touching the code. Street codes are those of ``resources/catalog.yaml``; category codes must
exist there too (the simulator checks them when it starts).
"""

from __future__ import annotations

from typing import Final

#: Spread of reports around a street's centre, metres (uniform over a disc of this radius).
STREET_SPREAD_M: Final = 600.0
#: Distance from the creek's centre line within which creek events happen, metres.
CREEK_SPREAD_M: Final = 50.0

#: Suzhou Creek (苏州河) through Putuo, west to east, as a polyline of (lon, lat) in WGS84.
CREEK_LINE: Final[tuple[tuple[float, float], ...]] = (
    (121.365, 31.228),
    (121.390, 31.232),
    (121.410, 31.238),
    (121.425, 31.243),
    (121.440, 31.245),
    (121.452, 31.242),
)

#: The streets along the creek; a creek point belongs to the nearest of them.
CREEK_STREETS: Final[tuple[str, ...]] = ("310107102", "310107014", "310107015", "310107020")

#: Stretches of the creek by longitude: (west edge, name), west to east.
CREEK_STRETCHES: Final[tuple[tuple[float, str], ...]] = (
    (0.0, "祁连山南路桥段"),
    (121.380, "真北路桥段"),
    (121.395, "华东师大段"),
    (121.415, "曹杨路桥段"),
    (121.430, "长寿路桥段"),
    (121.440, "梦清园段"),
    (121.447, "中远两湾城段"),
)

#: Per street: roads and residential compounds (小区), for addresses.
STREET_PLACES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "310107005": (
        ("兰溪路", "枫桥路", "梅岭北路", "花溪路", "曹杨路", "杏山路", "棠浦路"),
        ("曹杨一村", "曹杨二村", "曹杨四村", "曹杨五村", "曹杨八村", "桂巷新村", "枫桥小区"),
    ),
    "310107014": (
        ("大渡河路", "云岭东路", "金沙江路", "枣阳路", "长风路", "白玉路", "泸定路"),
        ("长风一村", "长风二村", "长风三村", "长风四村", "白玉新村", "金沙雅苑", "海珀日晖"),
    ),
    "310107015": (
        ("长寿路", "武宁路", "西康路", "胶州路", "常德路", "莫干山路", "澳门路", "昌化路"),
        ("长寿新村", "普陀新村", "西康公寓", "澳门路小区", "常德小区", "莫干山小区"),
    ),
    "310107016": (
        ("甘泉路", "子长路", "志丹路", "黄陵路", "延长西路", "西乡路", "灵石路"),
        ("甘泉一村", "甘泉二村", "南泉苑", "志丹苑", "西乡小区", "黄陵小区"),
    ),
    "310107017": (
        ("石泉路", "中潭路", "管弄路", "铜川路", "洛川东路", "岚皋路", "曹杨路"),
        ("石泉一村", "石泉三村", "中潭小区", "管弄新村", "岚皋小区", "铜川新苑"),
    ),
    "310107020": (
        ("宜川路", "中山北路", "普善路", "延长西路", "陕西北路", "光复西路", "中宁路"),
        ("宜川一村", "宜川二村", "宜川三村", "中远两湾城", "普善小区", "陕北小区"),
    ),
    "310107021": (
        ("万镇路", "真华路", "新村路", "富平路", "大场浦路", "南大路", "万荣路"),
        ("万里城", "万里雅筑", "富平苑", "真华新村", "新村路小区", "万荣小区"),
    ),
    "310107022": (
        ("真如路", "真北路", "铜川路", "大渡河路", "清涧路", "管弄路", "梅川路"),
        ("真如新村", "真光新村", "清涧一街坊", "清涧五街坊", "真北新村", "真如花苑"),
    ),
    "310107102": (
        ("金沙江路", "真北路", "梅川路", "同普路", "中江路", "祁连山南路", "怒江北路"),
        ("梅川一村", "中环家园", "联建小区", "同普小区", "怒江苑", "金鼎香樟苑"),
    ),
    "310107103": (
        ("桃浦路", "真南路", "祁连山南路", "武威路", "金通路", "敦煌路", "古浪路"),
        ("桃浦新村", "李子园小区", "桃浦一村", "武威新村", "敦煌苑", "古浪小区"),
    ),
}

#: Day-average share of each channel (sums to 100).
CHANNEL_WEIGHTS: Final[dict[str, float]] = {
    "sensor": 35.0,
    "video_ai": 20.0,
    "hotline_12345": 30.0,
    "patrol": 12.0,
    "citizen": 3.0,
}

#: Relative arrival intensity of 12345 orders and citizen reports by local hour (0..23):
#: few at night, peaks 9–11h and 14–17h.
HOTLINE_PROFILE: Final[tuple[float, ...]] = (
    0.25, 0.15, 0.10, 0.08, 0.08, 0.15, 0.35, 0.70,
    1.20, 1.80, 2.00, 1.80, 1.10, 1.30, 1.80, 1.95,
    1.90, 1.70, 1.10, 0.95, 0.85, 0.70, 0.50, 0.35,
)  # fmt: skip

#: Grid patrols work in shifts: a day shift 7–19h and a thin night watch.
PATROL_PROFILE: Final[tuple[float, ...]] = (
    0.15, 0.10, 0.10, 0.10, 0.10, 0.15, 0.40, 1.40,
    1.90, 1.90, 1.90, 1.80, 1.20, 1.60, 1.90, 1.90,
    1.80, 1.60, 1.20, 0.60, 0.40, 0.30, 0.20, 0.15,
)  # fmt: skip

#: Hours (local) of the night-time construction noise rule: 22:00–06:00.
NIGHT_HOURS: Final = frozenset({22, 23, 0, 1, 2, 3, 4, 5})
#: Hours (local) when construction sites work and raise dust.
SITE_HOURS: Final = frozenset(range(6, 22))

#: Categories each channel reports, with relative weights.
SENSOR_CATEGORIES: Final[dict[str, float]] = {
    "fire.smoke_alarm": 30.0,
    "facilities.manhole_cover": 22.0,
    "construction.dust": 30.0,  # by day only
    "construction.noise_night": 30.0,  # at night only
    "creek.water_level_high": 8.0,
}
VIDEO_CATEGORIES: Final[dict[str, float]] = {
    "safety.object_thrown_from_height": 35.0,
    "creek.floating_waste": 35.0,
    "creek.bicycle_on_walk": 30.0,
}
HOTLINE_CATEGORIES: Final[dict[str, float]] = {
    "appearance.garbage_overflow": 14.0,
    "facilities.road_damage": 9.0,
    "facilities.street_lamp": 8.0,
    "order.illegal_parking_nonmotor": 13.0,
    "order.street_vending": 9.0,
    "housing.illegal_construction": 8.0,
    "housing.group_renting": 9.0,
    "fire.fire_lane_blocked": 7.0,
    "order.noise_complaint": 14.0,
    "greening.tree_fallen": 4.0,
}
PATROL_CATEGORIES: Final[dict[str, float]] = {
    "appearance.garbage_overflow": 25.0,
    "order.illegal_parking_nonmotor": 25.0,
    "order.street_vending": 18.0,
    "facilities.road_damage": 14.0,
    "facilities.street_lamp": 10.0,
    "facilities.manhole_cover": 8.0,
}
CITIZEN_CATEGORIES: Final[dict[str, float]] = {
    "appearance.garbage_overflow": 25.0,
    "order.illegal_parking_nonmotor": 25.0,
    "facilities.road_damage": 15.0,
    "order.street_vending": 15.0,
    "fire.fire_lane_blocked": 12.0,
    "greening.tree_fallen": 8.0,
}

#: Evening and night weighting of some hotline categories (multiplier by local hour).
EVENING_CATEGORIES: Final[dict[str, float]] = {
    "order.noise_complaint": 2.5,  # 19:00–01:00
    "facilities.street_lamp": 2.5,
    "order.street_vending": 1.8,
}
EVENING_HOURS: Final = frozenset({19, 20, 21, 22, 23, 0})

#: Which channels a second report of an event may come from (the first listed: the same kind
#: of source again — another alarm of the device, another camera, another caller).
DUPLICATE_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "fire.smoke_alarm": ("sensor", "hotline_12345", "patrol"),
    "creek.water_level_high": ("sensor", "patrol"),
    "facilities.manhole_cover": ("sensor", "hotline_12345", "patrol"),
    "construction.dust": ("sensor", "hotline_12345", "video_ai"),
    "construction.noise_night": ("sensor", "hotline_12345"),
    "safety.object_thrown_from_height": ("video_ai", "hotline_12345"),
    "creek.floating_waste": ("video_ai", "patrol", "hotline_12345"),
    "creek.bicycle_on_walk": ("video_ai", "patrol", "citizen"),
}
#: Second reports of anything else come from these.
DEFAULT_DUPLICATE_SOURCES: Final[tuple[str, ...]] = ("hotline_12345", "citizen", "patrol")

#: Categories whose address is a home (a flat or a building) rather than a spot on a road.
HOME_CATEGORIES: Final = frozenset(
    {
        "housing.group_renting",
        "housing.illegal_construction",
        "order.noise_complaint",
        "fire.fire_lane_blocked",
        "fire.smoke_alarm",
        "safety.object_thrown_from_height",
    }
)

#: What people say, by category; ``{place}`` is the address.
COMPLAINTS: Final[dict[str, tuple[str, ...]]] = {
    "appearance.garbage_overflow": (
        "市民反映{place}垃圾桶已满溢，垃圾散落在地，气味较大，要求尽快清运。",
        "{place}垃圾厢房周边垃圾堆积未及时清运，影响居民出行。",
    ),
    "facilities.road_damage": (
        "市民反映{place}路面出现坑洞，非机动车经过存在安全隐患。",
        "{place}人行道地砖松动破损，雨天积水，要求修复。",
    ),
    "facilities.street_lamp": (
        "市民反映{place}路灯连续多晚不亮，夜间出行不便。",
        "{place}一排路灯闪烁后熄灭，路段较暗，存在安全隐患。",
    ),
    "order.illegal_parking_nonmotor": (
        "{place}共享单车及电动自行车大量堆放，占用盲道和人行道。",
        "市民反映{place}非机动车乱停放，行人无法通行。",
    ),
    "order.street_vending": (
        "{place}有流动摊贩占道经营，影响通行并产生垃圾。",
        "市民反映{place}夜间有无证设摊，油烟扰民。",
    ),
    "housing.illegal_construction": (
        "市民反映{place}有住户在楼顶/阳台搭建违法建筑，正在施工。",
        "{place}底楼住户私自扩建，占用公共绿地。",
    ),
    "housing.group_renting": (
        "市民反映{place}疑似群租，人员进出频繁，夜间吵闹。",
        "{place}房屋被分隔成多间出租，居住人数明显超标，存在消防隐患。",
    ),
    "fire.fire_lane_blocked": (
        "市民反映{place}消防通道被车辆和杂物长期堵塞。",
        "{place}小区消防车通道被私家车占用，多次劝说无果。",
    ),
    "order.noise_complaint": (
        "市民反映{place}楼上住户深夜噪声扰民，影响休息。",
        "{place}附近商铺音响声音过大，持续至深夜。",
    ),
    "greening.tree_fallen": (
        "市民反映{place}行道树倒伏，压住人行道，存在安全隐患。",
        "{place}一棵大树被风吹倒，横在路中，需紧急处置。",
    ),
    "facilities.manhole_cover": (
        "{place}窨井盖缺失，已用杂物临时遮挡，夜间极易发生危险。",
        "市民反映{place}井盖破损下陷，车辆经过响声很大。",
    ),
    "fire.smoke_alarm": (
        "居民反映{place}楼道内烟感报警器持续鸣响，闻到烟味。",
        "{place}有烟雾冒出，烟感报警，请尽快到场查看。",
    ),
    "creek.water_level_high": ("巡查发现苏州河{place}水位明显上涨，接近堤顶，防汛墙有渗水。",),
    "construction.dust": (
        "市民反映{place}工地扬尘严重，未落实覆盖和洒水措施。",
        "{place}工地渣土未覆盖，风起时尘土飞扬。",
    ),
    "construction.noise_night": (
        "市民反映{place}工地深夜仍在施工，噪声严重扰民。",
        "{place}工地夜间打桩，居民无法入睡。",
    ),
    "safety.object_thrown_from_height": ("居民反映{place}有人从高层往下扔杂物，险些砸到行人。",),
    "creek.floating_waste": (
        "{place}河面有大片漂浮垃圾和水草，影响河道景观。",
        "市民反映苏州河{place}水面漂浮塑料瓶和泡沫板。",
    ),
    "creek.bicycle_on_walk": (
        "{place}滨河步道上停放大量共享单车，影响跑步和散步。",
        "市民反映{place}滨河步道非机动车乱停，堵塞步道。",
    ),
}

#: What a grid patrol member writes, by category; ``{place}`` is the address.
PATROL_NOTES: Final[dict[str, tuple[str, ...]]] = {
    "appearance.garbage_overflow": ("巡查发现{place}垃圾桶满溢，已通知保洁，待清运。",),
    "order.illegal_parking_nonmotor": ("巡查发现{place}非机动车乱停放约{count}辆，已拍照取证。",),
    "order.street_vending": ("巡查发现{place}流动设摊{count}处，已劝离，需执法跟进。",),
    "facilities.road_damage": ("巡查发现{place}路面破损约{count}平方米，已设置警示。",),
    "facilities.street_lamp": ("巡查发现{place}路灯{count}盏不亮。",),
    "facilities.manhole_cover": ("巡查发现{place}井盖缺失/破损，已设置临时围挡。",),
    "creek.water_level_high": ("巡查发现苏州河{place}水位上涨，已加强巡查频次。",),
    "creek.floating_waste": ("巡河发现{place}河面漂浮物较多，需保洁船打捞。",),
    "creek.bicycle_on_walk": ("巡查发现{place}滨河步道停放非机动车{count}辆，已拍照取证。",),
    "fire.smoke_alarm": ("到场核查{place}烟感报警，现场有烟味，已联系物业。",),
}
