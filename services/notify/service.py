"""Nameko entrypoints of the notify service: translate, delegate to handlers, return dicts.

Events: one handler per publishing service, its queue bound to the event types notify's
rules, robots, digest and webhooks can use (bindings.py: the shipped ones when the queue is
declared, admins' rules' and webhooks' at run time by `EventBindings`), so a rule or webhook
can follow any event without a code change and notify is not sent the others. Events
arrive in batches (`batch_event_handler`: up to EVENT_BATCH.size events or
EVENT_BATCH.max_wait seconds, planned in one transaction). A failure while planning (e.g.
the gateway's directory did not answer) retries the batch's events one by one and requeues
the failing ones after a pause; `consume_many` makes a redelivery harmless.
"""
import logging

from gongdan_common.amqp import RpcProxy, event_handler

from gongdan_common.dependencies import Settings, UnitOfWorkProvider
from gongdan_common.logs import Correlation
from gongdan_common.entrypoints import rpc
from gongdan_common.health import HealthMixin
from gongdan_common.metrics import Sampler

from . import (common, daily_digest, delivery, inbox, planning, preferences, robots, rules,
               webhooks)
from .dependencies import (DeliveryLoop, DirectoryCache, EventBindings, SettingTimer,
                           bound_batch_event_handler)
from .models import metadata

log = logging.getLogger(__name__)


class NotifyService(HealthMixin):
    name = "notify"

    correlation = Correlation()  # log context, one line per RPC/event, spans
    uow = UnitOfWorkProvider(metadata)
    gauges = Sampler(delivery.sample_pending)  # refreshed at each /metrics scrape
    settings = Settings(common.settings_from_config)
    gateway = RpcProxy("gateway")
    directory = DirectoryCache()
    wake_sender = DeliveryLoop()
    bindings = EventBindings()

    def _lookup(self, queries):
        return self.directory.lookup(self.gateway, queries)

    def _configured(self):
        """After a rule, template or webhook changed: this process re-reads them at once
        (other replicas within a second) and the event queues follow what they want."""
        self.directory.forget_configuration()
        try:
            self.bindings.reconcile()
        except Exception:  # the change is saved; the next round binds it
            log.exception("binding notify's event queues after a change failed; the next "
                          "round (NOTIFY.bindings_seconds) retries")

    def _ingest(self, envelopes):
        handed = []  # emails and SMS written leased for free send slots: sent at once
        try:
            counts = planning.ingest_many(envelopes, self.uow, self._lookup, self.settings,
                                          config=self.directory.configuration(self.uow),
                                          hand_off=self.wake_sender.free(), handed=handed)
        except Exception:  # the batch is retried event by event; a failing one is requeued
            log.exception("planning %d event(s) (first %s/%s) failed", len(envelopes),
                          envelopes[0].get("source"), envelopes[0].get("type"))
            raise
        if handed:
            self.wake_sender.hand_off(handed)
        outgoing = counts["email"] + counts["sms"] + counts["webhook"] + counts.get("robot", 0)
        if outgoing > len(handed):
            self.wake_sender()

    # ---- events ---------------------------------------------------------------------------

    @bound_batch_event_handler("gateway", "#", requeue_on_error=True)
    def on_gateway_event(self, envelopes):  # account events (gateway/events.py)
        self._ingest(envelopes)

    @bound_batch_event_handler("intake", "#", requeue_on_error=True)
    def on_intake_event(self, envelopes):  # the name names the queue: keep it
        self._ingest(envelopes)

    @bound_batch_event_handler("dispatch", "#", requeue_on_error=True)
    def on_dispatch_event(self, envelopes):  # the name names the queue: keep it
        self._ingest(envelopes)

    @bound_batch_event_handler("worklog", "#", requeue_on_error=True)
    def on_worklog_event(self, envelopes):  # the name names the queue: keep it
        self._ingest(envelopes)

    @bound_batch_event_handler("sla", "#", requeue_on_error=True)
    def on_sla_event(self, envelopes):  # the name names the queue: keep it
        self._ingest(envelopes)

    @bound_batch_event_handler("kb", "#", requeue_on_error=True)
    def on_kb_event(self, envelopes):  # the name names the queue: keep it
        self._ingest(envelopes)

    @event_handler("channels", "mail_bounced")
    def on_mail_bounced(self, envelope):  # a DSN came back for one of our mails
        delivery.record_bounce(self.uow, envelope)

    # ---- the daily digest ------------------------------------------------------------------

    @SettingTimer.decorator("digest_interval")
    def digest_tick(self):
        try:
            counts = daily_digest.run_digests(self.uow, self._lookup, self.settings)
        except Exception:  # directory or database away: the next tick tries again
            log.exception("the digest pass failed; the next one retries")
            return None
        if counts["sent"]:
            self.wake_sender()
        return counts

    @rpc
    def run_digests(self, actor, payload=None):
        out = daily_digest.run_digests_by_hand(actor, payload or {}, self.uow, self._lookup,
                                           self.settings)
        if out["sent"]:
            self.wake_sender()
        return out

    # ---- inbox and preferences -------------------------------------------------------------

    @rpc
    def list_notifications(self, actor, query=None):
        return inbox.list_notifications(actor, query or {}, self.uow)

    @rpc
    def unread_count(self, actor):
        return inbox.unread_count(actor, self.uow)

    @rpc
    def mark_read(self, actor, notification_id):
        return inbox.mark_read(actor, notification_id, self.uow)

    @rpc
    def mark_all_read(self, actor):
        return inbox.mark_all_read(actor, self.uow)

    @rpc
    def get_preferences(self, actor):
        return preferences.get_preferences(actor, self.uow)

    @rpc
    def put_preferences(self, actor, payload):
        return preferences.put_preferences(actor, payload, self.uow)

    # ---- rules and templates ---------------------------------------------------------------

    @rpc
    def list_rules(self, actor):
        return rules.list_rules(actor, self.uow)

    @rpc
    def put_rule(self, actor, rule_id, payload):
        out = rules.put_rule(actor, rule_id, payload, self.uow)
        self._configured()
        return out

    @rpc
    def delete_rule(self, actor, rule_id):
        out = rules.delete_rule(actor, rule_id, self.uow)
        self._configured()
        return out

    @rpc
    def list_templates(self, actor):
        return rules.list_templates(actor, self.uow)

    @rpc
    def put_template(self, actor, kind, language, payload):
        out = rules.put_template(actor, kind, language, payload, self.uow)
        self.directory.forget_configuration()  # other replicas: within a second
        return out

    @rpc
    def delete_template(self, actor, kind, language):
        out = rules.delete_template(actor, kind, language, self.uow)
        self.directory.forget_configuration()  # other replicas: within a second
        return out

    # ---- webhooks and the delivery log -----------------------------------------------------

    @rpc
    def list_webhooks(self, actor):
        return webhooks.list_webhooks(actor, self.uow)

    @rpc
    def create_webhook(self, actor, payload):
        out = webhooks.create_webhook(actor, payload, self.uow, self.settings)
        self._configured()
        return out

    @rpc
    def get_webhook(self, actor, webhook_id):
        return webhooks.get_webhook(actor, webhook_id, self.uow)

    @rpc
    def update_webhook(self, actor, webhook_id, payload):
        out = webhooks.update_webhook(actor, webhook_id, payload, self.uow, self.settings)
        self._configured()
        return out

    @rpc
    def delete_webhook(self, actor, webhook_id):
        out = webhooks.delete_webhook(actor, webhook_id, self.uow)
        self._configured()
        return out

    @rpc
    def ping_webhook(self, actor, webhook_id):
        out = webhooks.ping_webhook(actor, webhook_id, self.uow)
        self.wake_sender()
        return out

    @rpc
    def list_deliveries(self, actor, query=None, webhook_id=None):
        return webhooks.list_deliveries(actor, query or {}, self.uow, webhook_id)

    @rpc
    def get_delivery(self, actor, delivery_id, webhook_id=None):
        return webhooks.get_delivery(actor, delivery_id, self.uow, webhook_id)

    @rpc
    def replay_delivery(self, actor, webhook_id, delivery_id):
        out = webhooks.replay_delivery(actor, webhook_id, delivery_id, self.uow)
        self.wake_sender()
        return out

    # ---- IM group robots (robots.py) -------------------------------------------------------

    @rpc
    def list_robots(self, actor):
        return robots.list_robots(actor, self.uow)

    @rpc
    def create_robot(self, actor, payload):
        out = robots.create_robot(actor, payload, self.uow, self.settings)
        self.directory.forget_configuration()  # other replicas: within a second
        return out

    @rpc
    def get_robot(self, actor, robot_id):
        return robots.get_robot(actor, robot_id, self.uow)

    @rpc
    def update_robot(self, actor, robot_id, payload):
        out = robots.update_robot(actor, robot_id, payload, self.uow, self.settings)
        self.directory.forget_configuration()  # other replicas: within a second
        return out

    @rpc
    def delete_robot(self, actor, robot_id):
        out = robots.delete_robot(actor, robot_id, self.uow)
        self.directory.forget_configuration()  # other replicas: within a second
        return out

    @rpc
    def try_robot(self, actor, robot_id):
        out = robots.try_robot(actor, robot_id, self.uow, self.settings)
        self.wake_sender()
        return out

    @rpc
    def robot_deliveries(self, actor, robot_id, query=None):
        return robots.robot_deliveries(actor, robot_id, query or {}, self.uow)
