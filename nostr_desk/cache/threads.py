"""NIP-10 thread references of a kind-1 note as the cache stores them: (root id, reply id).

Marked `e` tags (`root` / `reply`) win; otherwise the deprecated positional scheme applies (one `e`
is both root and parent; two or more: first is the root, last the parent, the middle are mentions).
`mention`-marked tags never count, and ids that are not 64-hex are ignored rather than stored.
"""

from __future__ import annotations

from nostr_desk.protocol.keys import is_hex


def thread_refs(tags: list[list[str]]) -> tuple[str | None, str | None]:
    """(root_id, reply_id); either may be None. A top-level note gives (None, None)."""
    marked_root = marked_reply = None
    positional: list[str] = []
    any_marked = False
    for tag in tags:
        if len(tag) < 2 or tag[0] != "e" or not is_hex(tag[1], 64):
            continue
        marker = tag[3] if len(tag) > 3 else ""
        if marker == "root":
            any_marked = True
            marked_root = marked_root or tag[1]
        elif marker == "reply":
            any_marked = True
            marked_reply = tag[1]
        elif marker == "mention":
            any_marked = True
        else:
            positional.append(tag[1])
    if any_marked:
        return marked_root, marked_reply
    if not positional:
        return None, None
    if len(positional) == 1:
        return positional[0], positional[0]
    return positional[0], positional[-1]
