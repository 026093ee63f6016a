"""Helpers for the nightly jobs' tests: a chunk that crashes."""

import dataclasses

from batch import registry


class Boom(Exception):
    pass


def crash_in_chunk_of(monkeypatch, name, member_id):
    """Make the job `name` fail in the chunk holding `member_id`, after doing its
    work: the chunk's transaction rolls back and the run fails. Once only; undo
    with monkeypatch.undo()."""
    job = registry.get(name)
    crashed = []

    def crashing(as_of, first_id, last_id):
        counts = job.run_chunk(as_of, first_id, last_id)
        if first_id <= member_id <= last_id and not crashed:
            crashed.append(first_id)
            raise Boom("worker died")
        return counts

    monkeypatch.setitem(registry._jobs, name, dataclasses.replace(job, run_chunk=crashing))
