"""What the workers must remember between attempts: deliveries and digests sent.

These records make the email tasks safe to retry and to redeliver (Celery delivers a task at
least once): they are written before and after the SMTP transaction, so a later attempt knows
whether the mail server already took the message.
"""

from __future__ import annotations

from django.db import models


class InvoiceDelivery(models.Model):
    """One ``InvoiceDeliveryRequested``, as the mailer handles it."""

    class State(models.TextChoices):
        PENDING = "pending"  # nothing handed to the mail server, or it refused: may send
        SENDING = "sending"  # an attempt is in the SMTP transaction (or died in it)
        SENT = "sent"  # the mail server answered 250: never send again
        FAILED = "failed"  # given up; InvoiceDeliveryFailed recorded

    delivery_id = models.UUIDField(primary_key=True)
    invoice_id = models.UUIDField(db_index=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    message_id = models.CharField(max_length=300, blank=True)
    attempts = models.IntegerField(default=0)
    sending_since = models.DateTimeField(null=True)
    sent_at = models.DateTimeField(null=True)
    last_error = models.TextField(blank=True)


class OverdueDigest(models.Model):
    """The overdue digest of an owner for a day: written before sending, stamped after.

    A digest is sent at least once (a crash between the SMTP answer and the stamp sends it
    again on the retry); it is a reminder, so that is the right side to err on.
    """

    owner_id = models.UUIDField()
    day = models.DateField()
    new_invoice_ids = models.JSONField(default=list)  # those that became overdue that day
    sent_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "day"],
                                               name="workers_overduedigest_once_a_day")]
