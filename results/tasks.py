"""django-q2 tasks for results: thin, id in, safe to run twice."""

from results import indexing


def index_job_outputs(job_id: int) -> int:
    """Index the output files a finished job reported; the number of files indexed."""
    return len(indexing.outputs_index(job_id=job_id))
