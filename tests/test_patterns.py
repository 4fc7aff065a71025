"""Pattern checks (experiments/patterns.py): the programme's observed patterns measured on the
calibrated model, paired run by run, with the catalogue's channel strengths drawn from their
ranges. Each pattern's verdict is asserted as measured and documented in docs/calibration.md
("Patterns"); a pattern the model does not reproduce is asserted as not reproduced, so that a
change to the model that turns a verdict shows here, and is reported rather than forced.

40 pairs: the 90% interval of a mean paired difference is then about a quarter of one pair's
spread wide. The verdicts below are those of seeds 12 and 13; where the two differ (the
perceived-affiliation group against the host community, level within about 2 points), both are
allowed.
"""

import pytest

from experiments.patterns import check

EXPECTED = {  # measured on seeds 12 and 13 (docs/calibration.md, "Patterns")
    "recreation_beats_dialogue": {"reproduced"},
    "vocational_beats_dialogue": {"contradicted"},      # not reproduced: reported, not forced
    "dialogue_late_beats_first": {"undecided"},         # not reproduced: reported, not forced
    "victims_largest_gain": {"reproduced"},
    "affiliated_highest_endline": {"contradicted", "undecided"},  # FPA and HC level: not reproduced
}


@pytest.fixture(scope="module")
def verdicts():
    return check(pairs=40, seed=12, progress=False).set_index("pattern")


def test_every_pattern_is_measured_with_its_interval(verdicts):
    assert set(verdicts.index) == set(EXPECTED)
    assert (verdicts.pairs == 40).all()
    assert (verdicts.low90 <= verdicts.mean_difference).all() and (verdicts.mean_difference <= verdicts.high90).all()


@pytest.mark.parametrize("pattern", sorted(EXPECTED))
def test_the_pattern_verdict_is_the_recorded_one(verdicts, pattern):
    assert verdicts.loc[pattern, "status"] in EXPECTED[pattern], verdicts.loc[pattern].to_dict()
