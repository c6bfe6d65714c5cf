"""The in-job runner of the GEOS-Chem Cloud Runner.

A small standalone program (standard library only; boto3 joins it for S3) that reads one
run spec (docs/run-spec.md), prepares the run directory, runs the model, reports progress
and metrics next to the outputs, and copies the outputs out.

Start it as a script (``python containers/runner/runner.py --spec SPEC --workdir DIR``) or as
a package (``python -m containers.runner ...`` from the repository root).
"""

SPEC_VERSION = 1
