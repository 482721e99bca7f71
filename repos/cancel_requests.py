"""Cancellation requests (`cancel_requests`): inserted by /cancel REF, claimed once by "Yes, cancel"."""

from __future__ import annotations

from models.cancel_request import CancelRequest
from repos.one_time import OneTimeRequests


class CancelRequestRepo(OneTimeRequests[CancelRequest]):
    def __init__(self) -> None:
        super().__init__(CancelRequest)
