"""One base for the refusals a person reads: a request turned down for a reason the person who made it can act on.

`Refusal.message` is that reason, one Chinese sentence (the owner in the chat, a staff member on the console, a
department's system through the API, an operator at the command line). `status` is the HTTP status a web entry
answers with: 400 unless a subclass or the raiser says otherwise. The subclasses keep their own names (so an
`except DomainError` still catches exactly what it did); the entries render any Refusal alike: the staff blueprint
flashes it and goes back (webhooks/staff/common.py), the API answers `{"ok": false, "error": …}` with the status
(webhooks/api.py, docs/CONTRACT.md §4), the bot replies with it.

This module sits at the bottom (models/ imports nothing of ours above it), so bot/ and webhooks/ may import it.
"""


class Refusal(Exception):
    """A refusal a person reads: `message` (Chinese) says why, `status` is the HTTP status of a web entry's answer."""

    status = 400

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
