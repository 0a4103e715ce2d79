"""Member profiles. (Placeholder: the accounts issue builds profiles, export and deletion.)"""

from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/members")
