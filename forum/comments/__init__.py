"""Threaded comments under a question's article: views, forms, rules and thread loading."""

from forum.comments.views import bp, comments_context

__all__ = ["bp", "comments_context"]
