"""Entry point of the conversation. (Stub: the bot helper replaces this module.)"""


def handle(incoming, rt):
    """Return the passive reply text for one inbound message, or None for no reply."""
    return "您好，这里是黑河市“合规一码通”。"
