"""Chinese-market brands → makers (with their WMI codes) → series → models with fuel type.

WMIs are the ones the joint ventures stamp on cars built in China; all but LW4 (Li Auto) and
LJ1 used by NIO (built by JAC, whose WMI it is) are in vininfo's table under the maker's name;
vininfo labels LC0 "BYD Bus", but BYD also uses it on its new-energy passenger cars.
Fuel types: 燃油 (petrol), 混动 (plug-in or range-extender hybrid, green plate ending in F),
纯电 (battery electric, green plate with D). Self-charging hybrids are not listed because they
carry ordinary blue plates and would blur the rule the demo is meant to show.
"""

from __future__ import annotations

FUEL_ICE = "燃油"
FUEL_HYBRID = "混动"
FUEL_EV = "纯电"

# fmt: off
# (brand, brand_en, weight, ((maker, (WMI, ...), ((series, ((model, fuel), ...)), ...)), ...))
CATALOGUE: tuple = (
    (
        "比亚迪",
        "BYD",
        18,
        (
            (
                "比亚迪汽车",
                ("LGX", "LC0"),
                (
                    ("秦PLUS", (("秦PLUS DM-i 55KM", FUEL_HYBRID), ("秦PLUS EV 510KM", FUEL_EV))),
                    ("汉", (("汉 EV 610KM", FUEL_EV), ("汉 DM-i 121KM", FUEL_HYBRID))),
                    ("宋PLUS", (("宋PLUS DM-i 110KM", FUEL_HYBRID), ("宋PLUS EV 520KM", FUEL_EV))),
                    ("元PLUS", (("元PLUS 510KM", FUEL_EV),)),
                    ("海豚", (("海豚 420KM", FUEL_EV),)),
                    ("海豹", (("海豹 550KM", FUEL_EV),)),
                    ("唐", (("唐 DM-i 112KM", FUEL_HYBRID),)),
                ),
            ),
        ),
    ),
    (
        "丰田",
        "Toyota",
        12,
        (
            (
                "广汽丰田",
                ("LVG",),
                (
                    ("凯美瑞", (("凯美瑞 2.0G 豪华版", FUEL_ICE), ("凯美瑞 2.5S 锋尚版", FUEL_ICE))),
                    ("汉兰达", (("汉兰达 2.0T 豪华版", FUEL_ICE),)),
                    ("雷凌", (("雷凌 1.5L 进取版", FUEL_ICE),)),
                    ("威兰达", (("威兰达 2.0L 四驱版", FUEL_ICE),)),
                ),
            ),
            (
                "一汽丰田",
                ("LFM",),
                (
                    ("卡罗拉", (("卡罗拉 1.2T 精英版", FUEL_ICE),)),
                    ("亚洲龙", (("亚洲龙 2.0L 豪华版", FUEL_ICE),)),
                    ("RAV4荣放", (("RAV4荣放 2.0L 四驱版", FUEL_ICE),)),
                    ("bZ4X", (("bZ4X 615KM", FUEL_EV),)),
                ),
            ),
        ),
    ),
    (
        "大众",
        "Volkswagen",
        14,
        (
            (
                "上汽大众",
                ("LSV",),
                (
                    ("朗逸", (("朗逸 1.5L 舒适版", FUEL_ICE),)),
                    ("帕萨特", (("帕萨特 330TSI 精英版", FUEL_ICE),)),
                    ("途观L", (("途观L 330TSI 两驱版", FUEL_ICE),)),
                    ("ID.4 X", (("ID.4 X 纯电长续航版", FUEL_EV),)),
                ),
            ),
            (
                "一汽-大众",
                ("LFV",),
                (
                    ("速腾", (("速腾 280TSI 舒适版", FUEL_ICE),)),
                    ("迈腾", (("迈腾 330TSI 豪华版", FUEL_ICE),)),
                    ("宝来", (("宝来 1.5L 精英版", FUEL_ICE),)),
                    ("探岳", (("探岳 330TSI 两驱版", FUEL_ICE),)),
                    ("ID.4 CROZZ", (("ID.4 CROZZ PRIME", FUEL_EV),)),
                ),
            ),
        ),
    ),
    (
        "吉利",
        "Geely",
        8,
        (
            (
                "吉利汽车",
                ("L6T",),
                (
                    ("帝豪", (("帝豪 1.5L 精英型", FUEL_ICE),)),
                    ("星越L", (("星越L 2.0T 旗舰版", FUEL_ICE),)),
                    ("博越L", (("博越L 1.5T 智享版", FUEL_ICE),)),
                    ("银河L7", (("银河L7 115KM", FUEL_HYBRID),)),
                ),
            ),
        ),
    ),
    (
        "特斯拉",
        "Tesla",
        6,
        (
            (
                "特斯拉（上海）",
                ("LRW",),
                (
                    ("Model 3", (("Model 3 后轮驱动版", FUEL_EV), ("Model 3 长续航版", FUEL_EV))),
                    ("Model Y", (("Model Y 后轮驱动版", FUEL_EV), ("Model Y 长续航版", FUEL_EV))),
                ),
            ),
        ),
    ),
    (
        "蔚来",
        "NIO",
        3,
        (
            (
                "江淮蔚来",
                ("LJ1",),
                (
                    ("ES6", (("ES6 75kWh", FUEL_EV),)),
                    ("ET5", (("ET5 75kWh", FUEL_EV),)),
                    ("ES8", (("ES8 100kWh", FUEL_EV),)),
                ),
            ),
        ),
    ),
    (
        "理想",
        "Li Auto",
        4,
        (
            (
                "理想汽车",
                ("LW4",),
                (
                    ("理想L7", (("理想L7 Pro", FUEL_HYBRID),)),
                    ("理想L8", (("理想L8 Max", FUEL_HYBRID),)),
                    ("理想L9", (("理想L9 Max", FUEL_HYBRID),)),
                    ("理想ONE", (("理想ONE 2021款", FUEL_HYBRID),)),
                ),
            ),
        ),
    ),
    (
        "长安",
        "Changan",
        7,
        (
            (
                "长安汽车",
                ("LS5",),
                (
                    ("CS75 PLUS", (("CS75 PLUS 1.5T 尊贵型", FUEL_ICE),)),
                    ("逸动", (("逸动 1.6L 精英型", FUEL_ICE),)),
                    ("UNI-K", (("UNI-K 2.0T 卓越型", FUEL_ICE),)),
                    ("CS55 PLUS", (("CS55 PLUS 1.5T 豪华型", FUEL_ICE),)),
                ),
            ),
        ),
    ),
    (
        "哈弗",
        "Haval",
        7,
        (
            (
                "长城汽车",
                ("LGW",),
                (
                    ("哈弗H6", (("哈弗H6 1.5T 冠军版", FUEL_ICE), ("哈弗H6 DHT-PHEV", FUEL_HYBRID))),
                    ("哈弗大狗", (("哈弗大狗 1.5T 柯基版", FUEL_ICE),)),
                    ("哈弗枭龙MAX", (("哈弗枭龙MAX 105KM", FUEL_HYBRID),)),
                ),
            ),
        ),
    ),
    (
        "本田",
        "Honda",
        9,
        (
            (
                "广汽本田",
                ("LHG",),
                (
                    ("雅阁", (("雅阁 260TURBO 精英版", FUEL_ICE),)),
                    ("飞度", (("飞度 1.5L CVT", FUEL_ICE),)),
                    ("皓影", (("皓影 240TURBO 两驱版", FUEL_ICE),)),
                ),
            ),
            (
                "东风本田",
                ("LVH",),
                (
                    ("思域", (("思域 240TURBO 劲擎版", FUEL_ICE),)),
                    ("CR-V", (("CR-V 240TURBO 两驱版", FUEL_ICE),)),
                    ("艾力绅", (("艾力绅 2.0L 豪华版", FUEL_ICE),)),
                ),
            ),
        ),
    ),
    (
        "日产",
        "Nissan",
        7,
        (
            (
                "东风日产",
                ("LGB",),
                (
                    ("轩逸", (("轩逸 1.6L XL 悦享版", FUEL_ICE),)),
                    ("天籁", (("天籁 2.0T 智享版", FUEL_ICE),)),
                    ("奇骏", (("奇骏 VC-Turbo 300", FUEL_ICE),)),
                ),
            ),
        ),
    ),
    (
        "别克",
        "Buick",
        6,
        (
            (
                "上汽通用",
                ("LSG",),
                (
                    ("英朗", (("英朗 1.5L 精英型", FUEL_ICE),)),
                    ("君威", (("君威 552T 精英型", FUEL_ICE),)),
                    ("昂科威Plus", (("昂科威Plus 652T 四驱", FUEL_ICE),)),
                    ("GL8", (("GL8 陆尊 653T", FUEL_ICE),)),
                ),
            ),
        ),
    ),
    (
        "宝马",
        "BMW",
        5,
        (
            (
                "华晨宝马",
                ("LBV",),
                (
                    ("3系", (("325Li M运动套装", FUEL_ICE),)),
                    ("5系", (("530Li 尊享型", FUEL_ICE),)),
                    ("X3", (("X3 xDrive30i", FUEL_ICE),)),
                    ("iX3", (("iX3 领先型", FUEL_EV),)),
                ),
            ),
        ),
    ),
    (
        "奔驰",
        "Mercedes-Benz",
        5,
        (
            (
                "北京奔驰",
                ("LE4",),
                (
                    ("C级", (("C 260 L 运动版", FUEL_ICE),)),
                    ("E级", (("E 300 L 豪华型", FUEL_ICE),)),
                    ("GLC", (("GLC 260 L 4MATIC", FUEL_ICE),)),
                    ("EQC", (("EQC 400 4MATIC", FUEL_EV),)),
                ),
            ),
        ),
    ),
)
# fmt: on
