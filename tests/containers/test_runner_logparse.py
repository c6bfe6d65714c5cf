"""The runner's log parsers: progress lines of both models, timers, and failure reasons."""

import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "containers"))
from runner.logparse import (  # noqa: E402
    LogWatcher, is_timer_header, parse_progress_line, parse_timer_line, parse_timers, reason_line,
)

PROGRESS_LINES = [
    # GCClassic 14.x
    ("---> DATE: 2019/07/01  UTC: 01:00  X-HRS:       1.000", datetime(2019, 7, 1, 1, 0)),
    ("---> DATE: 2019/12/31  UTC: 23:50  X-HRS:    8759.833", datetime(2019, 12, 31, 23, 50)),
    # GCClassic before UTC: replaced GMT:
    ("---> DATE: 2016/07/01  GMT: 00:20  X-HRS:       0.333", datetime(2016, 7, 1, 0, 20)),
    ("     ---> DATE: 2016/07/01  GMT: 06:00  X-HRS:       6.000   ", datetime(2016, 7, 1, 6, 0)),
    # MAPL 2 (GCHP 13), with throughput, time remaining and memory
    (" AGCM Date: 2007/08/01  Time: 01:00:00  Throughput(days/day)[Avg Tot Run]:     407962.2     "
     "410922.5   18590964.7  TimeRemaining(Est) 000:00:00    2.7% :  13.3% Mem Comm:Used",
     datetime(2007, 8, 1, 1, 0, 0)),
    # older MAPL: date and time only
    (" AGCM Date: 2016/07/01  Time: 00:10:00", datetime(2016, 7, 1, 0, 10)),
    # older MAPL: "%Memory Committed" tail
    (" AGCM Date: 2016/07/01  Time: 00:20:00  Throughput(days/day)[Avg Tot Run]:   123.4   118.2   "
     "140.1  TimeRemaining(Est) 001:02:03   %Memory Committed:  22.31", datetime(2016, 7, 1, 0, 20)),
    # GCHP 14: the root component's name, and the wall-clock date and time appended
    (" GCHP Date: 2019/01/01  Time: 23:50:00  Throughput(days/day)[Avg Tot Run]:       1549.5       "
     "7202.7       7605.9  TimeRemaining(Est) 000:00:00   40.0% :  22.4% Mem Comm:Used ; 20260301 10:22",
     datetime(2019, 1, 1, 23, 50)),
    # mpirun --tag-output prefix
    ("[1,0]<stdout>: GCHP Date: 2019/07/01  Time: 00:10:00  Throughput(days/day)[Avg Tot Run]: 10.0 "
     "11.0 12.0", datetime(2019, 7, 1, 0, 10)),
]

NOT_PROGRESS = [
    "",
    "*************   S T A R T I N G   G E O S - C H E M   *************",
    "GEOS-Chem ERROR: Error encountered in Read_Met",
    " Start Date: 2019/07/01  Time: 00:00:00",  # prose, not a MAPL heartbeat
    "---> DATE: 2019/13/01  UTC: 01:00  X-HRS:       1.000",  # no month 13
    " GEOSChem.SpeciesConc.20190101_0000z.nc4 written",
    " Mem/Swap Used (MB) at MAPL_Cap:TimeLoop=  1.104E+05  0.000E+00",
]


@pytest.mark.parametrize(("line", "expected"), PROGRESS_LINES)
def test_progress_lines_of_both_models_give_the_simulated_time(line, expected):
    assert parse_progress_line(line) == expected


@pytest.mark.parametrize("line", NOT_PROGRESS)
def test_other_lines_are_not_progress(line):
    assert parse_progress_line(line) is None


TIMER_LINES = [
    ("  GEOS-Chem                     :  00-00:02:38.133           158.134", ("GEOS-Chem", 158.134)),
    ("  => Gas-phase chem             :  00-00:00:59.062            59.062", ("=> Gas-phase chem", 59.062)),
    ("  All chemistry                 :  01-02:00:00.000        93600.000", ("All chemistry", 93600.0)),
    ("  Convection                    :  >>>>> THE TIMER DID NOT RUN <<<<<", None),
    ("GEOS-Chem                       :  00-00:02:38.133           158.134", None),  # not indented
    ("  Timer name                       DD-hh:mm:ss.SSS     Total Seconds", None),
]


@pytest.mark.parametrize(("line", "expected"), TIMER_LINES)
def test_timer_lines_give_name_and_seconds(line, expected):
    assert parse_timer_line(line) == expected


def test_the_timers_header_is_recognised():
    assert is_timer_header("  Timer name                       DD-hh:mm:ss.SSS     Total Seconds")
    assert not is_timer_header("  Timer name")


CLASSIC_END = """\
---> DATE: 2019/01/02  UTC: 23:50  X-HRS:      47.833
  Timers printed below look like timers but come before the header:
  Early                         :  00-00:00:01.000             1.000

===============================================================================
G E O S - C H E M   T I M E R S

  Timer name                       DD-hh:mm:ss.SSS     Total Seconds
-------------------------------------------------------------------------------
  GEOS-Chem                     :  00-00:02:38.133           158.134
  HEMCO                         :  00-00:00:27.281            27.281
  => FAST-JX photolysis         :  00-00:00:03.500             3.500
  Wet deposition                :  >>>>> THE TIMER DID NOT RUN <<<<<
**************   E N D   O F   G E O S - C H E M   **************
""".splitlines()


def test_timers_are_read_only_after_the_summary_header():
    assert parse_timers(CLASSIC_END) == {"GEOS-Chem": 158.134, "HEMCO": 27.281, "=> FAST-JX photolysis": 3.5}


def test_a_log_without_a_timers_summary_has_no_timers():
    assert parse_timers(CLASSIC_END[:3]) == {}


def test_the_watcher_follows_the_latest_time_and_the_timers():
    watcher = LogWatcher()
    assert watcher.simulated_time is None
    watcher.feed("---> DATE: 2019/01/01  UTC: 00:00  X-HRS:       0.000")
    watcher.feed("---> DATE: 2019/01/01  UTC: 00:10  X-HRS:       0.167")
    watcher.feed("---> DATE: 2019/01/01  UTC: 00:05  X-HRS:       0.083")  # never goes back
    assert watcher.simulated_time == datetime(2019, 1, 1, 0, 10)
    for line in CLASSIC_END:
        watcher.feed(line)
    assert watcher.simulated_time == datetime(2019, 1, 2, 23, 50)
    assert watcher.timers == parse_timers(CLASSIC_END)


REASONS = [
    (
        "a GEOS-Chem error beats the lines after it",
        ["---> DATE: 2019/01/01  UTC: 00:00  X-HRS:       0.000",
         "=" * 79,
         "GEOS-Chem ERROR: Could not find file MERRA2.20190101.A1.4x5.nc4",
         " -> at Get_Met_A1 (in module GeosCore/flexgrid_read_mod.F90)",
         "=" * 79,
         "MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD with errorcode 1."],
        "GEOS-Chem ERROR: Could not find file MERRA2.20190101.A1.4x5.nc4",
    ),
    (
        "a Python traceback gives its exception line",
        ["Traceback (most recent call last):", '  File "demo_model.py", line 3, in <module>',
         "ValueError: unknown grid 'C7'"],
        "ValueError: unknown grid 'C7'",
    ),
    (
        "a Fortran crash gives the signal line, not its backtrace",
        ["Program received signal SIGSEGV: Segmentation fault - invalid memory reference.",
         "", "Backtrace for this error:", "#0  0x7f3a21 in ???", "#1  0x5581c2 in ???"],
        "Program received signal SIGSEGV: Segmentation fault - invalid memory reference.",
    ),
    (
        "without errors the last meaningful line is used",
        ["reading met fields", "   ", "*****", "---> DATE: 2019/01/01  UTC: 01:00  X-HRS:       1.000",
         "[runner] something the runner said"],
        "reading met fields",
    ),
    ("an empty log has no reason line", ["", "====="], None),
]


@pytest.mark.parametrize(("why", "lines", "expected"), REASONS, ids=[r[0] for r in REASONS])
def test_the_reason_line_is_the_most_telling_line(why, lines, expected):
    assert reason_line(lines) == expected
