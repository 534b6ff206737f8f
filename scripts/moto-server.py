"""moto's server, as the tests and the demo run it, with SQS ReceiveMessage made faithful to SQS.

moto 5.2.5 has two faults in ReceiveMessage that several receivers on one queue run into:
- it checks that a message is visible and then marks it received, with no lock in between, so two
  receivers can both get one message;
- a long poll reads which FIFO message groups are busy once, when it starts, so a receiver that began
  waiting on an empty queue later takes messages of a group another receiver is still working through.
SQS does neither: a FIFO group's messages go to one receiver at a time. Here each scan runs under the
queue's own lock with the busy groups read afresh, and a long poll scans again whenever a message arrives
(or every 50 ms, as messages of busy groups become free), until its wait is over.

Run it as moto_server is run: python scripts/moto-server.py -H 127.0.0.1 -p PORT
"""

import sys
import time

import moto
from moto.server import main
from moto.sqs import models

# The patch reads moto's private Queue._messages_lock: check it against a new moto before changing the pin.
PATCHED_VERSION = "5.2.5"
# How long a long poll waits before looking again at messages of busy groups.
RESCAN_SECONDS = 0.05

if moto.__version__ != PATCHED_VERSION:
    sys.exit(
        f"scripts/moto-server.py patches moto {PATCHED_VERSION}'s ReceiveMessage, but moto is "
        f"{moto.__version__}: check the patch against it, then update PATCHED_VERSION"
    )

_receive_message = models.SQSBackend.receive_message


def receive_message(
    self,
    queue_name,
    count,
    wait_seconds_timeout,
    visibility_timeout,
    message_attribute_names=None,
):
    """moto's ReceiveMessage, one atomic scan at a time, for up to wait_seconds_timeout."""
    queue = self.get_queue(queue_name)
    deadline = time.monotonic() + wait_seconds_timeout
    with queue._messages_lock:
        while True:
            # A scan that does not wait: moto's own, seeing the busy groups as they are now.
            result = _receive_message(
                self, queue_name, count, 0, visibility_timeout, message_attribute_names
            )
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            # Waiting releases the lock; a new message wakes it at once.
            queue._messages_lock.wait(timeout=min(remaining, RESCAN_SECONDS))


models.SQSBackend.receive_message = receive_message

if __name__ == "__main__":
    main(sys.argv[1:])
