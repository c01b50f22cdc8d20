"""An email backend writing one `.eml` file per message (what `make run` uses).

Django's own file backend appends every message of a connection to one `.log`
file; an `.eml` per message opens in any mail reader and is easy to assert on.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, file_path: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.directory = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            partial = self.directory / f".{name}.tmp"
            partial.write_bytes(message.message().as_bytes(linesep="\n"))
            os.replace(partial, self.directory / name)  # never a half-written .eml
            sent += 1
        return sent
