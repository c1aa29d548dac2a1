"""A runnable example of an internal system following Gongdan's ticket events over AMQP.

    python examples/subscriber.py [--amqp amqp://guest:guest@127.0.0.1:5672//] [--queue crm.tickets]

It binds its own durable queue to `intake.events` (all ticket events), keeps the event ids
it has applied in a small SQLite file, in the same transaction as its effect (here: a
per-ticket status projection), and acks only after that commit — so a crash at any point
loses nothing and applies nothing twice. See docs/events.md.
"""
import argparse
import json
import sqlite3

from kombu import Connection, Exchange, Queue


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--queue", default="example.ticket-projection")
    parser.add_argument("--db", default="subscriber.db")
    parser.add_argument("--routing-key", default="#", help="e.g. ticket_status_changed")
    args = parser.parse_args()

    db = sqlite3.connect(args.db)
    db.execute("CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY)")
    db.execute("CREATE TABLE IF NOT EXISTS tickets (id TEXT PRIMARY KEY, number TEXT, "
               "status TEXT, version INTEGER)")
    db.commit()

    exchange = Exchange("intake.events", type="topic", durable=True)
    queue = Queue(args.queue, exchange=exchange, routing_key=args.routing_key, durable=True,
                  auto_delete=False)

    def handle(body, message):
        try:
            with db:  # one transaction: the dedupe record and the effect
                db.execute("INSERT INTO seen VALUES (?)", (body["event_id"],))
                ticket = body["data"].get("ticket")
                if ticket:
                    db.execute(
                        "INSERT INTO tickets VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                        "status = excluded.status, version = excluded.version "
                        "WHERE excluded.version >= tickets.version",
                        (ticket["id"], ticket["number"], ticket["status"], ticket["version"]))
            print(json.dumps({"type": body["type"], "ticket": body.get("ticket_number")},
                             ensure_ascii=False))
        except sqlite3.IntegrityError:
            print("duplicate delivery ignored:", body["event_id"])
        message.ack()

    with Connection(args.amqp) as conn:
        with conn.Consumer(queue, accept=["json"], callbacks=[handle]):
            print(f"listening on {args.queue} (Ctrl-C to stop)")
            while True:
                conn.drain_events()


if __name__ == "__main__":
    main()
