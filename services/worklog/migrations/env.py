from gongdan_common.migrate import run_env
from services.worklog.models import metadata

run_env(metadata)
