"""Threaded comments under a question. (Placeholder: the comments issue builds them.)"""

from flask import Blueprint

bp = Blueprint("comments", __name__)
