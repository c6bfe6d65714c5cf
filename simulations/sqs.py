"""SQS, as the platform uses it: read messages from one queue and delete the ones handled."""

from dataclasses import dataclass

from simulations import aws


@dataclass(frozen=True)
class Message:
    id: str
    receipt_handle: str  # what delete() needs; valid only until the visibility timeout ends
    body: str


def receive(queue_url: str, max_messages: int = 10, wait_s: int = 0) -> list[Message]:
    """Up to `max_messages` (1..10, SQS's limit) messages, waiting up to `wait_s` (0..20) seconds.

    A received message is hidden from other readers for the queue's visibility timeout and comes
    back if it is not deleted by then, so a worker that dies mid-way loses nothing.
    """
    with aws.translated("SQS refused to hand out messages"):
        answer = aws.client("sqs").receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=max(1, min(int(max_messages), 10)),
            WaitTimeSeconds=max(0, min(int(wait_s), 20)))
    return [Message(item["MessageId"], item["ReceiptHandle"], item.get("Body", ""))
            for item in answer.get("Messages", [])]


def delete(queue_url: str, receipt_handle: str) -> None:
    """Remove a handled message from the queue for good."""
    with aws.translated("SQS refused to delete a message"):
        aws.client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=receipt_handle)
