from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from autocrm.demo import loader
from autocrm.demo.loader import DEFAULT_CUSTOMERS
from autocrm.demo.services import demo_create, demo_logins


class Command(BaseCommand):
    help = "Create the demo organization, stores a and b, and the demo logins (idempotent; never in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=DEFAULT_CUSTOMERS,
            help="generated customers per store (with vehicles, odometer histories and ~3%% near-duplicates)",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=42, help="random seed for generated data")
        parser.add_argument(
            "--messy", type=int, default=0, metavar="N",
            help="then N demo customers per store re-typed by staff (changed mobiles, 劉/刘, one-string addresses…) "
                 "in a spreadsheet imported through the import, and the duplicate finder run (autocrm.demo.messy)",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("autocrm demo refuses to run when AUTOCRM_ENV=production")
        result = demo_create(customers=options["customers"], seed=options["seed"])
        stats = loader.last_stats
        if stats is not None and stats.customers:
            self.stdout.write(
                f"Demo customers: {stats.customers} ({stats.duplicates} near-duplicates), {stats.vehicles} vehicles, "
                f"{stats.readings} odometer readings; {stats.rows} rows in {stats.seconds:.1f}s "
                f"({stats.rows_per_second:,.0f} rows/s)"
            )
            # The review queue holds real work from the first page a manager opens: the
            # generated near-duplicates found by the same finder the page runs.
            from autocrm.customers.dedup import duplicates_find

            for code, store in result["stores"].items():
                found = duplicates_find(store_id=store.pk, run_now=True)
                self.stdout.write(f"Store {code}: {found.pairs} pairs in the duplicate review queue")
        elif stats is not None and stats.skipped_stores:
            self.stdout.write("Demo customers already present: nothing added.")
        if options["messy"]:
            from autocrm.demo.messy import demo_messy_load

            for s in demo_messy_load(stores=result["stores"], count=options["messy"], seed=options["seed"]):
                if s.skipped:
                    self.stdout.write(f"Store {s.store}: re-typed rows already present: nothing added.")
                    continue
                self.stdout.write(
                    f"Store {s.store}: {s.rows} re-typed rows, {s.imported} imported, {s.refused} refused by the "
                    f"import; {s.pairs} pairs in the duplicate review queue"
                )
        self.stdout.write(f"Demo organization: {result['organization'].name}")
        self.stdout.write(f"Logins (password {settings.AUTOCRM_DEMO_PASSWORD}):")
        self.stdout.write("  " + "  ".join(login.username for login in demo_logins()))
