"""The forum's tables, one module per aggregate."""

from forum.models.comments import Comment, CommentRevision
from forum.models.contacts import Block, ContactRequest
from forum.models.diseases import Disease
from forum.models.map_entries import MapEntry
from forum.models.messages import Conversation, Message, MessageReport
from forum.models.moderation import Ban, ModerationAction, Report
from forum.models.notifications import Notification, NotificationSetting
from forum.models.outbox import OutboxMessage
from forum.models.questions import Question, Vote
from forum.models.users import LoginSession, User

__all__ = [
    "Ban",
    "Block",
    "ContactRequest",
    "Conversation",
    "Message",
    "MessageReport",
    "Notification",
    "NotificationSetting",
    "OutboxMessage",
    "Comment",
    "CommentRevision",
    "Disease",
    "LoginSession",
    "MapEntry",
    "ModerationAction",
    "Question",
    "Report",
    "User",
    "Vote",
]
