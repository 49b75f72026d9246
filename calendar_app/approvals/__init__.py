"""Approvals: posts waiting for an approver, client review links, versions, internal comments,
deadline warnings and the workspace's activity log.

A workspace with `approval_required` holds every post an editor schedules "in review"
(`PostStatus.IN_REVIEW`); the dispatcher only claims `scheduled` posts, and also skips a
scheduled post of such a workspace that carries no approval (calendar_app.publishing.dispatch).
"""
