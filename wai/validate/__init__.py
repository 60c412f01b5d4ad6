"""`wai.validate`: check WAI scenes and dataset roots, reporting every fault with where it is and what was expected.

    from wai.validate import validate
    report = validate("data/eth3d", deep=True, workers=4)
    for problem in report.problems:
        print(problem)               # [files] scene 'courtyard', frame 'DSC_0287', file 'depth/DSC_0287.exr': ...
    print(report.summary())

The checks are the rows of `RULES` (name, one-line description, function); `--list-rules` prints that table.
"""

from wai.validate.context import SceneContext
from wai.validate.problem import Problem, ValidationReport
from wai.validate.rules import RULES, Rule, rules_for
from wai.validate.runner import find_scenes, validate, validate_scene

__all__ = [
    "RULES",
    "Problem",
    "Rule",
    "SceneContext",
    "ValidationReport",
    "find_scenes",
    "rules_for",
    "validate",
    "validate_scene",
]
