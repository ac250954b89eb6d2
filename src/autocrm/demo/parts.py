"""Demo parts per store: a realistic after-sales catalogue (~80 lines: oils and fluids, filters,
brakes, spark plugs, wipers, batteries, tyres, …) with prices and costs, stock received through
``parts.services`` so the ledger has history, some parts at or below their reorder point (the
low-stock list and its alerts), three suppliers and a few purchase orders (a draft, a sent one,
one partly received). Runs with the generated customers (``--customers`` > 0), once per store."""

from __future__ import annotations

import contextlib
import random
from typing import Any

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.core import audit
from autocrm.core.errors import Conflict
from autocrm.parts import services
from autocrm.parts.models import Part
from autocrm.tenancy.models import Organization, Store

SUPPLIERS = (  # name, contact, phone, lead time (days)
    ("比亚迪售后配件中心", "黄经理", "400-830-3311", 3),
    ("华东汽配城·鑫达商行", "陈老板", "0571-8601 2233", 1),
    ("途虎工场店供应链", "刘专员", "021-6085 9900", 2),
)

# part number, name, brand, unit, category, price, cost, reorder point, reorder qty, supplier (index)
CATALOGUE: tuple[tuple[str, str, str, str, str, str, str, int, int, int], ...] = (
    ("OIL-0W20-4L", "全合成机油 0W-20 4L", "美孚1号", "barrel", "oil", "498.00", "320.00", 10, 24, 1),
    ("OIL-0W20-1L", "全合成机油 0W-20 1L", "美孚1号", "bottle", "oil", "138.00", "86.00", 12, 24, 1),
    ("OIL-5W30-4L", "全合成机油 5W-30 4L", "嘉实多极护", "barrel", "oil", "458.00", "295.00", 8, 20, 1),
    ("OIL-5W40-4L", "全合成机油 5W-40 4L", "壳牌超凡喜力", "barrel", "oil", "428.00", "270.00", 6, 12, 1),
    ("OIL-BULK-0W20", "散装机油 0W-20（升）", "比亚迪原厂", "litre", "oil", "85.00", "42.00", 40, 200, 0),
    ("ATF-DCT-1L", "双离合变速箱油 1L", "比亚迪原厂", "bottle", "oil", "120.00", "68.00", 8, 24, 0),
    ("BRF-DOT4-1L", "刹车油 DOT4 1L", "博世", "bottle", "oil", "78.00", "38.00", 10, 24, 1),
    ("CLT-OAT-4L", "防冻冷却液 -35℃ 4L", "比亚迪原厂", "barrel", "oil", "168.00", "88.00", 6, 12, 0),
    ("CLT-EV-4L", "电池冷却液 4L", "比亚迪原厂", "barrel", "oil", "228.00", "130.00", 4, 8, 0),
    ("WSH-2L", "玻璃水 -25℃ 2L", "龟牌", "bottle", "oil", "25.00", "9.50", 30, 60, 1),
    ("GRS-500", "润滑脂 500g", "壳牌", "piece", "oil", "45.00", "21.00", 4, 10, 1),
    ("ACR-R1234", "空调冷媒 R1234yf", "霍尼韦尔", "bottle", "oil", "380.00", "210.00", 3, 6, 2),
    ("FLT-OIL-BYD01", "机油滤清器（DM-i）", "比亚迪原厂", "piece", "filter", "58.00", "24.00", 20, 40, 0),
    ("FLT-OIL-W712", "机油滤清器 W712/95", "曼牌", "piece", "filter", "65.00", "28.00", 10, 30, 2),
    ("FLT-AIR-BYD01", "空气滤清器（宋/唐）", "比亚迪原厂", "piece", "filter", "98.00", "42.00", 10, 20, 0),
    ("FLT-AIR-C27", "空气滤清器 C27009", "曼牌", "piece", "filter", "88.00", "36.00", 6, 12, 2),
    ("FLT-CAB-BYD01", "空调滤清器（活性炭）", "比亚迪原厂", "piece", "filter", "128.00", "52.00", 15, 30, 0),
    ("FLT-CAB-PM25", "空调滤清器 PM2.5", "马勒", "piece", "filter", "118.00", "48.00", 8, 20, 2),
    ("FLT-CAB-HEPA", "空调滤清器 HEPA 高效", "3M", "piece", "filter", "168.00", "72.00", 5, 10, 2),
    ("FLT-FUEL-BYD01", "燃油滤清器", "比亚迪原厂", "piece", "filter", "158.00", "66.00", 4, 10, 0),
    ("BRK-PAD-F-HAN", "前刹车片（汉）", "比亚迪原厂", "set", "brake", "680.00", "360.00", 4, 8, 0),
    ("BRK-PAD-R-HAN", "后刹车片（汉）", "比亚迪原厂", "set", "brake", "520.00", "270.00", 4, 8, 0),
    ("BRK-PAD-F-SONG", "前刹车片（宋 PLUS）", "比亚迪原厂", "set", "brake", "580.00", "300.00", 4, 8, 0),
    ("BRK-PAD-R-SONG", "后刹车片（宋 PLUS）", "比亚迪原厂", "set", "brake", "460.00", "235.00", 4, 8, 0),
    ("BRK-PAD-F-QIN", "前刹车片（秦 PLUS）", "比亚迪原厂", "set", "brake", "480.00", "245.00", 4, 8, 0),
    ("BRK-PAD-F-BR", "前刹车片 陶瓷配方", "布雷博", "set", "brake", "780.00", "430.00", 2, 4, 2),
    ("BRK-PAD-F-TRW", "前刹车片", "天合 TRW", "set", "brake", "420.00", "210.00", 3, 6, 2),
    ("BRK-DSC-F-HAN", "前刹车盘（汉）", "比亚迪原厂", "piece", "brake", "860.00", "480.00", 2, 4, 0),
    ("BRK-DSC-R-HAN", "后刹车盘（汉）", "比亚迪原厂", "piece", "brake", "720.00", "400.00", 2, 4, 0),
    ("BRK-DSC-F-SONG", "前刹车盘（宋 PLUS）", "比亚迪原厂", "piece", "brake", "780.00", "430.00", 2, 4, 0),
    ("BRK-SENS-01", "刹车片磨损报警线", "博世", "piece", "brake", "68.00", "26.00", 4, 10, 1),
    ("IGN-SP-ILKR7", "火花塞 铱金 ILKR7", "NGK", "piece", "ignition", "98.00", "45.00", 16, 32, 1),
    ("IGN-SP-FR7", "火花塞 双铂金 FR7", "博世", "piece", "ignition", "75.00", "33.00", 12, 24, 1),
    ("IGN-SP-IK20", "火花塞 铱金 IK20TT", "电装", "piece", "ignition", "88.00", "40.00", 8, 16, 1),
    ("IGN-COIL-DMI", "点火线圈（DM-i 1.5L）", "比亚迪原厂", "piece", "ignition", "420.00", "230.00", 2, 4, 0),
    ("WIP-26", "无骨雨刮片 26 寸", "博世", "piece", "wiper", "128.00", "52.00", 6, 12, 1),
    ("WIP-24", "无骨雨刮片 24 寸", "博世", "piece", "wiper", "118.00", "48.00", 6, 12, 1),
    ("WIP-18", "无骨雨刮片 18 寸", "博世", "piece", "wiper", "98.00", "40.00", 6, 12, 1),
    ("WIP-HAN-SET", "雨刮片套装（汉）", "比亚迪原厂", "set", "wiper", "268.00", "120.00", 4, 8, 0),
    ("WIP-REAR-12", "后雨刮片 12 寸", "法雷奥", "piece", "wiper", "68.00", "26.00", 4, 8, 1),
    ("BAT-12V-60", "蓄电池 12V 60Ah", "瓦尔塔", "piece", "battery", "680.00", "420.00", 3, 6, 1),
    ("BAT-12V-70", "蓄电池 12V 70Ah", "瓦尔塔", "piece", "battery", "780.00", "480.00", 2, 4, 1),
    ("BAT-12V-45", "蓄电池 12V 45Ah", "骆驼", "piece", "battery", "480.00", "290.00", 3, 6, 1),
    ("BAT-12V-LFP", "低压磷酸铁锂电池 12V（DM-i）", "比亚迪原厂", "piece", "battery", "1280.00", "760.00", 2, 4, 0),
    ("BAT-KEY-CR2032", "遥控钥匙电池 CR2032", "松下", "piece", "battery", "15.00", "3.00", 20, 50, 1),
    ("TYR-235-50R19", "轮胎 235/50 R19", "米其林 Primacy 4", "piece", "tyre", "1180.00", "820.00", 4, 8, 2),
    ("TYR-245-45R19", "轮胎 245/45 R19", "米其林 Pilot Sport 4", "piece", "tyre", "1380.00", "960.00", 4, 8, 2),
    ("TYR-225-60R18", "轮胎 225/60 R18", "普利司通 Turanza", "piece", "tyre", "980.00", "680.00", 4, 8, 2),
    ("TYR-215-55R17", "轮胎 215/55 R17", "固特异 EfficientGrip", "piece", "tyre", "720.00", "490.00", 4, 8, 2),
    ("TYR-225-50R18", "轮胎 225/50 R18", "马牌 UC7", "piece", "tyre", "920.00", "630.00", 4, 8, 2),
    ("TYR-235-55R19", "轮胎 235/55 R19", "倍耐力 P Zero", "piece", "tyre", "1480.00", "1040.00", 2, 4, 2),
    ("TYR-VALVE-TPMS", "胎压传感器", "比亚迪原厂", "piece", "tyre", "380.00", "190.00", 4, 8, 0),
    ("TYR-PATCH", "补胎蘑菇钉", "玛路斯", "piece", "tyre", "30.00", "6.00", 20, 50, 1),
    ("SUS-SHK-F-SONG", "前减震器（宋 PLUS）", "比亚迪原厂", "piece", "suspension", "980.00", "560.00", 2, 2, 0),
    ("SUS-SHK-R-SONG", "后减震器（宋 PLUS）", "比亚迪原厂", "piece", "suspension", "760.00", "430.00", 2, 2, 0),
    ("SUS-LINK-F", "前稳定杆连杆", "采埃孚", "piece", "suspension", "260.00", "130.00", 2, 4, 2),
    ("SUS-ARM-F-L", "前下摆臂（左）", "比亚迪原厂", "piece", "suspension", "680.00", "380.00", 1, 2, 0),
    ("SUS-BUSH-01", "摆臂衬套", "比亚迪原厂", "piece", "suspension", "120.00", "55.00", 4, 8, 0),
    ("SUS-TIE-END", "转向横拉杆球头", "TRW", "piece", "suspension", "220.00", "110.00", 2, 4, 2),
    ("ELE-BULB-H7", "卤素灯泡 H7", "飞利浦", "piece", "electrical", "68.00", "25.00", 6, 12, 1),
    ("ELE-BULB-W5W", "示宽灯泡 W5W", "欧司朗", "piece", "electrical", "15.00", "4.00", 10, 20, 1),
    ("ELE-FUSE-KIT", "保险丝套装", "比亚迪原厂", "set", "electrical", "58.00", "20.00", 3, 6, 0),
    ("ELE-HORN", "蜗牛喇叭", "博世", "piece", "electrical", "168.00", "75.00", 2, 4, 1),
    ("ELE-CHG-GUN", "便携充电枪 7kW", "比亚迪原厂", "piece", "electrical", "1680.00", "1050.00", 1, 2, 0),
    ("ELE-WHL-SPEED", "轮速传感器", "比亚迪原厂", "piece", "electrical", "360.00", "180.00", 2, 4, 0),
    ("ELE-CAM-REAR", "倒车摄像头", "比亚迪原厂", "piece", "electrical", "880.00", "480.00", 1, 2, 0),
    ("BDY-MIR-GLASS-L", "左后视镜镜片", "比亚迪原厂", "piece", "body", "260.00", "120.00", 1, 2, 0),
    ("BDY-BMP-F-HAN", "前保险杠（汉，未喷漆）", "比亚迪原厂", "piece", "body", "2680.00", "1600.00", 1, 1, 0),
    ("BDY-CLIP-50", "卡扣套装（50 个）", "比亚迪原厂", "set", "body", "45.00", "12.00", 5, 10, 0),
    ("BDY-LOGO-F", "前标（BYD）", "比亚迪原厂", "piece", "body", "180.00", "80.00", 2, 4, 0),
    ("BDY-MAT-SONG", "脚垫（宋 PLUS，全包围）", "3W", "set", "body", "680.00", "320.00", 2, 4, 2),
    ("BDY-FILM-PPF", "漆面保护膜（整车）", "3M", "set", "body", "6800.00", "3800.00", 1, 1, 2),
    ("OTH-BELT-AUX", "发电机皮带", "盖茨", "piece", "other", "180.00", "80.00", 2, 4, 2),
    ("OTH-PUMP-WTR", "电子水泵", "比亚迪原厂", "piece", "other", "980.00", "560.00", 1, 2, 0),
    ("OTH-GASKET-DRN", "放油螺丝垫片", "比亚迪原厂", "piece", "other", "5.00", "0.80", 50, 100, 0),
    ("OTH-CLEAN-THR", "节气门清洗剂", "3M", "bottle", "other", "58.00", "22.00", 6, 12, 1),
    ("OTH-CLEAN-AC", "空调清洗剂", "固特威", "bottle", "other", "68.00", "25.00", 6, 12, 1),
    ("OTH-FUEL-ADD", "燃油宝", "巴斯夫", "bottle", "other", "78.00", "28.00", 10, 24, 1),
    ("OTH-WHEEL-WGT", "平衡块（盒）", "玛路斯", "set", "other", "48.00", "18.00", 2, 4, 1),
    ("OTH-GLOVES", "一次性丁腈手套（盒）", "代尔塔", "set", "other", "35.00", "14.00", 4, 10, 1),
)


def demo_parts_store(store: Store, *, seed: int = 42) -> int:
    """The catalogue, stock and orders of one store (nothing when it already has parts)."""
    if Part.objects.filter(store=store).exists():  # scoped: the demo's own store
        return 0
    rng = random.Random(f"{seed}-parts-{store.code}")
    keeper = actor_build(user=User.objects.get(username=f"service_manager_{store.code}"), store_id=store.pk)
    suppliers = [
        services.supplier_create(actor=keeper, data={"name": n, "contact": c, "phone": p, "lead_time_days": d})
        for n, c, p, d in SUPPLIERS
    ]
    parts = []
    for number, name, brand, unit, category, price, cost, point, qty, sup in CATALOGUE:
        part = services.part_create(actor=keeper, data={
            "part_number": number, "name": name, "brand": brand, "unit": unit, "category": category,
            "price": price, "cost": cost, "reorder_point": point, "reorder_qty": qty, "supplier": suppliers[sup].pk,
        })  # fmt: skip
        # Most parts comfortably stocked; about one in six at or below its reorder point.
        low = rng.random() < 0.17
        stock = rng.randint(0, point) if low else point + rng.randint(1, max(2, qty))
        if stock:
            services.stock_receive(actor=keeper, part=part, qty=stock, unit_cost=cost)
        parts.append(part)
    # Orders: one partly received, one sent, one draft from the reorder list.
    tyres = [p for p in parts if p.category == "tyre"][:3]
    order = services.po_create(actor=keeper, supplier=suppliers[2], lines=[
        {"part": p.pk, "quantity": 4, "unit_cost": p.cost} for p in tyres])  # fmt: skip
    services.po_send(actor=keeper, order=order)
    first = order.lines.order_by("pk").first()
    if first is not None:
        services.po_receive(actor=keeper, order=order, quantities={first.pk: 4})
    oils = [p for p in parts if p.category == "oil"][:4]
    sent = services.po_create(actor=keeper, supplier=suppliers[1], lines=[
        {"part": p.pk, "quantity": 12} for p in oils])  # fmt: skip
    services.po_send(actor=keeper, order=sent)
    with contextlib.suppress(Conflict):  # nothing of this supplier is low this time
        services.po_from_alerts(actor=keeper, supplier=suppliers[0])
    return len(parts)


def demo_parts_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: the parts demo with the generated customers (not in the bare test demo)."""
    if not int(options.get("customers") or 0):
        return
    with audit.acting_as(None):
        for store in stores.values():
            demo_parts_store(store, seed=int(options.get("seed") or 42))
