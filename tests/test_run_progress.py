"""The crawl's progress line counts the run's pages incrementally, and equals a full count."""

from __future__ import annotations

from pathlib import Path

from audit.db import Database
from audit.models import PageObservation
from crawler.crawl_run import PageTally, TaskSpec, create_run, progress


def test_the_tally_counts_only_new_rows_of_its_own_run(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/p.db")
    ours = create_run(db, None, {}, [TaskSpec("sites", "a.gov", "a.gov", None)])
    other = create_run(db, None, {}, [TaskSpec("sites", "b.gov", "b.gov", None)])
    tally = PageTally()
    assert progress(db, ours, tally).pages == 0
    for batch, (run, n) in enumerate([(ours, 3), (other, 5), (ours, 2), (other, 1), (ours, 4)]):
        with db.session() as session:
            session.add_all(
                PageObservation(run_id=run, domain="a.gov", url=f"https://www.a.gov/{batch}/{i}")
                for i in range(n)
            )
        assert progress(db, ours, tally).pages == progress(db, ours).pages
    assert tally.pages == 9
    assert progress(db, ours, tally).pages == 9  # nothing new: the same figure
    assert progress(db, other).pages == 6
