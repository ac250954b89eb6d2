"""Voice-of-customer analysis at size (issue 15, item 4; ADR 0035): ``--texts`` comments (default
100,000) generated from the phrase bank (voc.phrasebank), analysed and recorded with
``voc.services.record_texts`` (the sentiment, the aspect phrases, the text and phrase rows), then
the manager's summary (``selectors.voc_summary``, this year) read ``--runs`` times. Prints the
wall and CPU time of the whole analysis, CPU per comment (the analysis alone and with the
writes), the summary's median time and its query count. Target: 100,000 comments < 60 s.

    createdb -h 127.0.0.1 -U postgres h7_bench
    AUTOCRM_DATA_DIR=/tmp/acrm_voc DATABASE_URL=postgres://postgres@127.0.0.1:5432/h7_bench \
        .venv/bin/python benchmarks/voc.py

Uses the database of ``DATABASE_URL`` (default SQLite in ``AUTOCRM_DATA_DIR``): migrates it,
creates the demo organization and removes the texts of an earlier run first."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from autocrm.accounts.models import Membership, User
    from autocrm.accounts.selectors import actor_build
    from autocrm.core.periods import period_parse
    from autocrm.demo.services import demo_create
    from autocrm.tenancy.models import Store
    from autocrm.voc import analysis, phrasebank, selectors, services
    from autocrm.voc.models import VocPhrase, VocText

    demo_create()
    store = Store.objects.get(code="a")
    VocPhrase.objects.filter(store=store, text__source_id__startswith="bench-").delete()
    VocText.objects.filter(store=store, source_id__startswith="bench-").delete()
    staff = list(Membership.objects.filter(store=store).values_list("user_id", flat=True))
    rng = random.Random(15)
    now = timezone.now()
    texts = [phrasebank.comment(rng, mood=0.55, trouble="parts" if i % 3 == 0 else None) for i in range(args.texts)]
    items = [
        services.TextIn(rng.choice(("survey", "call", "complaint")), f"bench-{i}", text,
                        now - dt.timedelta(minutes=rng.randint(0, 300 * 24 * 60)), None, rng.choice(staff))
        for i, text in enumerate(texts)
    ]  # fmt: skip
    t0, c0 = time.perf_counter(), time.process_time()
    analysis.warm_up()
    t_warm, c_warm = time.perf_counter() - t0, time.process_time() - c0
    print(f"jieba + dictionary load: {t_warm:.2f} s wall, {c_warm:.2f} s CPU (once per process)")

    c1 = time.process_time()
    for text in texts[:10_000]:
        analysis.analyse(text)
    per_text = (time.process_time() - c1) / min(10_000, len(texts))
    print(f"analysis alone: {per_text * 1e6:.0f} µs CPU a comment")

    t2, c2 = time.perf_counter(), time.process_time()
    new = services.record_texts(store_id=store.pk, items=items)
    wall, cpu = time.perf_counter() - t2, time.process_time() - c2
    phrases = VocPhrase.objects.filter(store=store, text__source_id__startswith="bench-").count()
    print(f"record_texts: {new} comments, {phrases} phrases in {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({cpu / max(new, 1) * 1e6:.0f} µs CPU a comment with the writes; target < 60 s for 100,000)")  # fmt: skip
    counts = {s: VocText.objects.filter(store=store, source_id__startswith="bench-", sentiment=s).count()
              for s in ("positive", "negative", "neutral")}  # fmt: skip
    print(f"sentiments: {counts}")

    manager = actor_build(user=User.objects.get(username="manager_a"), store_id=store.pk)
    period = period_parse("custom", start=(now - dt.timedelta(days=300)).date(), end=now.date())
    times = []
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as ctx:
            s = time.perf_counter()
            summary = selectors.voc_summary(actor=manager, period=period)
            times.append(time.perf_counter() - s)
    print(f"voc_summary over {summary['totals']['texts']} texts: median {statistics.median(times) * 1000:.0f} ms "
          f"wall, {len(ctx.captured_queries)} queries; top complaint {summary['top_negative'][0]['label']}")  # fmt: skip


if __name__ == "__main__":
    main()
