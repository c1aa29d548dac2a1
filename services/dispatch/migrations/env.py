from gongdan_common.migrate import run_env
from services.dispatch.models import metadata

run_env(metadata)
