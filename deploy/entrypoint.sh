#!/bin/sh
# Container entry point: the first argument (else $GONGDAN_SERVICE) says what to run.
#   intake | dispatch | worklog | sla | notify | kb | channels | exports | gateway   a Nameko service (one process)
#   migrate [SERVICE ...]          migrate the service databases to head, then exit (one
#                                  migrator per database at a time: the initContainers)
#   ensure-bucket [--wait S]       create the S3 bucket unless it exists, then exit
#   create-admin --email ...       create the first administrator, then exit
#   healthcheck SERVICE            exit 0 when SERVICE answers (probes)
#   anything else                  executed as is (python, sh, ...)
set -eu
CONFIG="${GONGDAN_CONFIG:-/app/config/gongdan.yaml}"
cmd="${1:-${GONGDAN_SERVICE:-}}"
[ $# -gt 0 ] && shift

case "$cmd" in
  intake) target=services.intake.service:IntakeService ;;
  dispatch) target=services.dispatch.service:DispatchService ;;
  worklog) target=services.worklog.service:WorklogService ;;
  sla) target=services.sla.service:SlaService ;;
  notify) target=services.notify.service:NotifyService ;;
  kb) target=services.kb.service:KbService ;;
  channels) target=services.channels.service:ChannelsService ;;
  exports) target=services.exports.service:ExportsService ;;
  gateway) target=gateway.service:GatewayService ;;
  migrate) exec python -m scripts.migrate_locked --config "$CONFIG" "$@" ;;
  ensure-bucket) exec python -m scripts.s3local ensure-bucket "$@" ;;
  create-admin) exec python -m gateway.cli --config "$CONFIG" create-admin "$@" ;;
  healthcheck) exec python -m scripts.healthcheck --config "$CONFIG" "$@" ;;
  "")
    echo "usage: gongdan-entrypoint intake|dispatch|worklog|sla|notify|kb|channels|exports|gateway|migrate|ensure-bucket|create-admin|healthcheck" >&2
    echo "       (or set GONGDAN_SERVICE)" >&2
    exit 64
    ;;
  *) exec "$cmd" "$@" ;;
esac

# no --backdoor-port here: that is for development only
exec nameko run "$target" --config "$CONFIG" "$@"
