"""The comment, reply and edit forms: markup, labels and the text kept across an error."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from forum.comments.service import BODY_MAX, GUEST_NAME_MAX, CommentError


class CommentForm(FlaskForm):
    """A new comment or a reply; guests also give a display name."""

    class Meta:
        # CSRFProtect already checks every post (form field or htmx's X-CSRFToken header).
        csrf = False

    guest_name = StringField(
        "Your display name", render_kw={"maxlength": GUEST_NAME_MAX, "autocomplete": "nickname"}
    )
    body = TextAreaField(
        "Your comment",
        render_kw={"maxlength": BODY_MAX, "required": True, "dir": "auto", "rows": 5},
    )
    parent_id = HiddenField()
    order = HiddenField()
    # "1" in a form shown to a logged-in member: a post of it arriving logged out comes from a
    # tab whose login ended, and is answered with the text and "log in again", never as a guest.
    as_member = HiddenField()

    # Set by place(): where the form sits and posts; general_error is for the whole form.
    form_id = "comment-form"
    action = ""
    submit_label = "Post comment"
    ask_guest_name = False
    cancel_url: str | None = None
    cancel_hx_url: str | None = None
    cancel_hx_target: str | None = None
    cancel_hx_swap = "outerHTML"
    # What an htmx post replaces: the form itself, or (editing) the whole comment.
    hx_target = "this"
    # A reply or edit form takes the keyboard focus when it appears; the main box does not.
    autofocus = False
    general_error: str | None = None
    # A link after the general error: (label, url, opens in a new tab).
    error_link: tuple[str, str, bool] | None = None

    def place(
        self,
        form_id: str,
        label: str,
        action: str,
        submit_label: str,
        ask_guest_name: bool = False,
        cancel_url: str | None = None,
        cancel_hx_url: str | None = None,
        cancel_hx_target: str | None = None,
        cancel_hx_swap: str = "outerHTML",
        hx_target: str = "this",
        autofocus: bool = False,
    ) -> CommentForm:
        """Give the form and its fields ids unique on the page, its action and its labels."""
        self.form_id = form_id
        self.action = action
        self.submit_label = submit_label
        self.ask_guest_name = ask_guest_name
        self.cancel_url = cancel_url
        self.cancel_hx_url = cancel_hx_url
        self.cancel_hx_target = cancel_hx_target
        self.cancel_hx_swap = cancel_hx_swap
        self.hx_target = hx_target
        self.autofocus = autofocus
        for f in (self.guest_name, self.body, self.parent_id, self.order, self.as_member):
            f.id = f"{form_id}-{f.name}"
        self.body.label.text = label
        self.body.label.field_id = self.body.id
        self.guest_name.label.field_id = self.guest_name.id
        return self

    def parent_value(self) -> int | None:
        """The parent comment id posted (None for a top-level comment); CommentError if bad."""
        raw = (self.parent_id.data or "").strip()
        if not raw:
            return None
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 2**31 - 1:
            raise CommentError("The comment you are replying to does not exist.")
        return int(raw)

    def show_error(self, error: CommentError) -> None:
        """Attach the service's error to the field it concerns, or to the whole form."""
        target = getattr(self, error.field, None) if error.field else None
        if target is not None:
            target.errors = [error.message]
        else:
            self.general_error = error.message

    def written_as_member(self) -> bool:
        """True when the form was shown to a logged-in member (see `as_member`)."""
        return self.as_member.data == "1"

    @property
    def has_errors(self) -> bool:
        return bool(self.general_error or self.body.errors or self.guest_name.errors)
