"""One round of the watch's background work, called by ``dualgrid worker`` every round."""

from __future__ import annotations

import logging

log = logging.getLogger("dualgrid.worker")


def run_round() -> dict[str, int]:
    """Urgent-message alerts, reply drafts for closed group cases, due notices, the outbox, retention."""
    from . import feed, inbound, outbox, publicity

    done = {
        "alerts": feed.alert_sweep(),
        "reply_drafts": outbox.draft_replies(),
        "notices_queued": publicity.queue_due(),
        "outbox_sent": outbox.process_due(),
        "chatter_purged": inbound.purge_chatter(),
        "patrol_logs_purged": inbound.purge_patrol_logs(),
    }
    if any(done.values()):
        log.info("watch: %s", ", ".join(f"{k} {v}" for k, v in done.items() if v))
    return done
