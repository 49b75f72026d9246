"""The publishing pipeline: claim due posts, publish each exactly once, settle by status.

Split by stage: `dispatch` claims due rows and sweeps stale ones, `run` takes one post from
init through upload and status polling to its outcome, `links` looks up the public video id,
`actions` are what a person does (retry, cancel, resolve), and `state` holds the guarded
writes they all share. `api`, `views` and `urls` are its interfaces.

Invariants (see docs/architecture.md and style.md, "Celery and the publishing pipeline"):
- PostgreSQL decides what is due; the dispatcher claims rows with FOR UPDATE SKIP LOCKED.
- Every step is persisted before the next one starts, and every write is conditional on the
  claim token, so a worker whose claim was taken over stops at its next step.
- `init_started_at` is committed before TikTok's init is called and, from then on, init is
  never called again for that post unless TikTok explicitly refused it. A lost init response
  becomes the visible "unconfirmed" state that a person resolves.
"""
