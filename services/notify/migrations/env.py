from gongdan_common.migrate import run_env
from services.notify.models import metadata

run_env(metadata)
