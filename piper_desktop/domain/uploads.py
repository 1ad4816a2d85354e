"""A job's resumable upload as people see it (`piper jobs show`, the GUI's job details):
how far it got across restarts, never its URL (a credential)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..store.models import JobUpload


def upload_view(session: Session, job_id: int) -> dict[str, Any] | None:
    """The job's upload without its URL, with a one-line `summary`; None if it has none."""
    row = session.get(JobUpload, job_id)
    if row is None:
        return None
    share = row.bytes_acked / row.total_bytes if row.total_bytes else 0.0
    view: dict[str, Any] = {
        "receipt": row.receipt,
        "total_bytes": row.total_bytes,
        "chunk_size": row.chunk_size,
        "chunk_count": row.chunk_count,
        "chunks_acked": row.chunks_acked,
        "bytes_acked": row.bytes_acked,
        "percent": round(share * 100, 1),
        "complete": row.chunks_acked >= row.chunk_count,
        "resumes": row.resumes,
        "abandoned": row.abandoned,
        "updated_at": row.updated_at,
    }
    view["summary"] = summary(view)
    return view


def summary(view: dict[str, Any]) -> str:
    """"62% sent (31 of 50 chunks) · resumed 1× after a restart · 1 earlier upload
    abandoned for a fresh publish"."""
    if view["complete"]:
        parts = [f"complete ({view['chunk_count']} chunks)"]
    else:
        parts = [
            f"{view['percent']:.0f}% sent ({view['chunks_acked']} of {view['chunk_count']} chunks)"
        ]
    if view["resumes"]:
        parts.append(f"resumed {view['resumes']}× after a restart")
    if view["abandoned"]:
        parts.append(f"{view['abandoned']} earlier upload(s) abandoned for a fresh publish")
    return " · ".join(parts)
