"""Who takes a new case: the case manager with the fewest open cases in the agency."""

from collections.abc import Mapping, Sequence


class NoCaseManagers(RuntimeError):
    pass


def least_loaded(case_managers: Sequence[str], open_cases: Mapping[str, int]) -> str:
    """Ties go to the earlier name in the roster, so the choice is repeatable."""
    if not case_managers:
        raise NoCaseManagers("the case-management agency has no case managers configured")
    return min(case_managers, key=lambda cm: (open_cases.get(cm, 0), case_managers.index(cm)))
