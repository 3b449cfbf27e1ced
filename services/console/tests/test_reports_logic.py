"""How the analyst's page reads an outcomes cell: a suppressed one is never a number."""

from console.domain.reports import SUPPRESSED, cell, chart_of


def test_a_suppressed_cell_reads_suppressed_and_has_no_number_even_with_a_count() -> None:
    shown = cell({"count": 0, "percent": 0.0, "value": None, "suppressed": "small_cell"})
    assert (shown.text, shown.suppressed, shown.number) == (SUPPRESSED, True, None)


def test_a_count_reads_with_its_share_and_a_statistic_as_itself() -> None:
    assert cell({"count": 12, "percent": 37.5, "suppressed": None}).text == "12 (37.5%)"
    assert cell({"count": 0, "suppressed": None}).text == "0"
    assert cell({"value": 4.5, "suppressed": None}).number == 4.5
    assert cell(None).text == "–"


def test_the_chart_leaves_a_suppressed_cell_out_as_a_gap() -> None:
    table = {
        "columns": ["referred"],
        "rows": [
            {"group": "white", "cells": {"referred": {"count": 20, "suppressed": None}}},
            {"group": "asian", "cells": {"referred": {"count": 3, "suppressed": "small_cell"}}},
        ],
    }
    chart = chart_of(table)
    assert chart["labels"] == ["white", "asian"]
    assert chart["datasets"] == [{"label": "referred", "data": [20.0, None]}]
